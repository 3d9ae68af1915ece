"""The closed list of regions: every code named in both languages, offered once, and
nothing but the list read back from text."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from tuidang.lib import regions


def test_every_region_has_a_name_in_english_and_in_chinese() -> None:
    for code in regions.CODES:
        english = regions.region_name(code, chinese=False)
        chinese = regions.region_name(code, chinese=True)
        assert english and chinese and english != code and chinese != english


def test_the_mainland_has_its_31_provinces_municipalities_and_autonomous_regions() -> None:
    assert len(regions.MAINLAND) == 31
    assert all(code.startswith("CN-") for code in regions.MAINLAND)
    assert {"HK", "MO", "TW"} <= regions.CODES and "CN" in regions.CODES


@pytest.mark.parametrize(("language", "beijing"), [("en", "Beijing"), ("zh-hans", "北京")])
def test_the_form_offers_every_region_once_in_the_interface_language(
    language: str, beijing: str
) -> None:
    with translation.override(language):
        choices = regions.region_choices()
    offered = [choices[0][0]]
    for _group, options in choices[1:]:
        assert isinstance(options, list)
        offered += [code for code, _name in options]
    mainland = choices[1][1]
    assert isinstance(mainland, list) and ("CN-BJ", beijing) in mainland
    assert sorted(offered) == sorted(regions.CODES | {regions.UNKNOWN})


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CN-BJ", "CN-BJ"),
        ("cn-bj", "CN-BJ"),
        ("Beijing", "CN-BJ"),
        ("北京", "CN-BJ"),
        ("北京市", "CN-BJ"),
        ("Inner Mongolia", "CN-NM"),
        ("内蒙古", "CN-NM"),
        ("Hong Kong", "HK"),
        ("香港", "HK"),
        ("United States", "US"),
        ("美国", "US"),
        ("US", "US"),
        ("", ""),
        ("  ", ""),
        ("Wuhan, Hongshan district, +86 139 7777 1234", None),
        ("Wuhan", None),
    ],
)
def test_text_names_a_region_of_the_list_or_none(text: str, code: str | None) -> None:
    assert regions.region_from_text(text) == code


@given(st.text(max_size=60))
def test_whatever_the_text_it_is_read_as_a_region_of_the_list_or_refused(text: str) -> None:
    code = regions.region_from_text(text)
    assert code is None or regions.is_region(code)
