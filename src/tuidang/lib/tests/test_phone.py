"""Caller keys and regions: what the hotline keeps of a number, and that it is enough."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.geodata import GEOCODE_DATA
from pytest_django.fixtures import Settings

from tuidang.lib import regions
from tuidang.lib.phone import caller_key, identify_caller, normalise

DIALLED = "+18005550100"

# Mainland mobile numbers: 1, a second digit 3-9, then nine digits.
mainland_mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.integers(3, 9),
    st.integers(0, 999_999_999),
)


def spellings(national: str) -> list[str]:
    """How one mainland number arrives: E.164, with 00, spaced, dashed."""
    return [
        f"+86{national}",
        f"+86 {national[:3]} {national[3:7]} {national[7:]}",
        f"+86-{national[:3]}-{national[3:7]}-{national[7:]}",
        f"+86 ({national[:3]}) {national[3:]}",
    ]


@given(mainland_mobiles)
def test_every_spelling_of_a_number_gives_one_caller_key(national: str) -> None:
    keys = {identify_caller(raw, dialled=DIALLED).key for raw in spellings(national)}
    assert len(keys) == 1


@given(mainland_mobiles, mainland_mobiles)
def test_different_numbers_give_different_keys(a: str, b: str) -> None:
    if a != b:
        assert (
            identify_caller(f"+86{a}", dialled=DIALLED).key
            != identify_caller(f"+86{b}", dialled=DIALLED).key
        )


@given(mainland_mobiles)
@settings(max_examples=200)
def test_what_is_kept_does_not_contain_the_number(national: str) -> None:
    caller = identify_caller(f"+86{national}", dialled=DIALLED)
    kept = f"{caller.key}{caller.region}{caller.last_digits}"
    assert national not in kept
    assert national[-5:] not in caller.last_digits
    assert len(caller.last_digits) == 2


def test_the_key_depends_on_the_pepper(settings: Settings) -> None:
    before = caller_key("+8613800138000")
    settings.CALLER_KEY_PEPPER = "another pepper"
    assert caller_key("+8613800138000") != before


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("+8613800138000", "CN-BJ"),
        ("+8613912345678", "CN-JS"),  # "Changzhou, Jiangsu": the city is not kept
        ("+862012345678", "CN-GD"),
        ("+85291234567", "HK"),
        ("+85366123456", "MO"),
        ("+886912345678", "TW"),
        ("+12125550123", "US"),  # "New York, NY": neither the city nor the state
        ("+4930123456", "DE"),  # "Berlin"
    ],
)
def test_the_region_is_the_province_not_the_city(number: str, region: str) -> None:
    assert identify_caller(number, dialled=DIALLED).region == region


def _mainland_prefixes() -> dict[str, str]:
    """Every prefix of a mainland mobile range the geocoder places (86 and seven digits),
    with the English description it gives."""
    return {
        prefix: descriptions["en"]
        for prefix, descriptions in GEOCODE_DATA.items()
        if prefix.startswith("861") and len(prefix) == 9 and "en" in descriptions
    }


def test_every_province_the_geocoder_names_is_a_province_of_the_list() -> None:
    found: dict[str, set[str]] = {}
    for prefix, description in _mainland_prefixes().items():
        region = identify_caller(f"+{prefix}1234", dialled=DIALLED).region
        found.setdefault(region, set()).add(description.rsplit(",", 1)[-1].strip())
    # Each of the 31 provinces, municipalities and autonomous regions, under its own code
    # and no other.
    assert set(found) == set(regions.MAINLAND)
    for code, names in found.items():
        assert names == {regions.MAINLAND[code][0]}


def test_every_country_a_number_can_belong_to_is_on_the_list() -> None:
    for country in phonenumbers.SUPPORTED_REGIONS - {"CN"}:
        example = phonenumbers.example_number(country)
        if example is not None:
            region = identify_caller(
                phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
                dialled=DIALLED,
            ).region
            # Some regions share a country code (Western Sahara's examples are Morocco's).
            assert region == phonenumbers.region_code_for_number(example)
            assert region in regions.CODES
    assert phonenumbers.SUPPORTED_REGIONS - {"CN"} <= regions.CODES


@given(st.text(max_size=30))
def test_whatever_arrives_as_a_number_the_region_is_on_the_list(raw: str) -> None:
    assert regions.is_region(identify_caller(raw, dialled=DIALLED).region)


@pytest.mark.parametrize("withheld", ["anonymous", "Anonymous", "+266696687", "", "restricted"])
def test_withheld_numbers_share_one_key_per_dialled_number(withheld: str) -> None:
    caller = identify_caller(withheld, dialled=DIALLED)
    assert caller.withheld
    assert caller.key == identify_caller("anonymous", dialled=DIALLED).key
    assert caller.key != identify_caller("anonymous", dialled="+18005550199").key
    assert caller.region == "" and caller.last_digits == ""


@given(st.text(max_size=30))
def test_normalise_never_raises_and_returns_e164_or_none(raw: str) -> None:
    result = normalise(raw)
    if result is not None:
        assert result.startswith("+")
        assert phonenumbers.is_possible_number(phonenumbers.parse(result))
