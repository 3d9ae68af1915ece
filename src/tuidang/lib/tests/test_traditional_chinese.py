"""Traditional Chinese: a third interface language, kept in step with the Simplified one."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tuidang.lib.chinese import in_reader_script, to_simplified, to_traditional
from tuidang.lib.management.commands.hant_messages import traditional
from tuidang.lib.regions import region_name

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def _catalogue(name: str) -> dict[str, str]:
    with (LOCALE / name / "LC_MESSAGES" / "django.po").open("rb") as po:
        catalogue = read_po(po)
    return {
        str(message.id if isinstance(message.id, str) else message.id[0]): (
            message.string if isinstance(message.string, str) else (message.string or [""])[0]
        )
        for message in catalogue
        if message.id
    }


def test_every_simplified_msgid_has_a_traditional_translation() -> None:
    simplified, hant = _catalogue("zh_Hans"), _catalogue("zh_Hant")
    missing = sorted(msgid for msgid in simplified if not hant.get(msgid))
    assert missing == [], "run `make messages-hant`"
    # Made from the Simplified translation as it is now, not from an older one.
    stale = sorted(
        msgid for msgid, string in simplified.items() if hant[msgid] != traditional(string)
    )
    assert stale == [], "run `make messages-hant`"
    with (LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    assert translations.gettext("Renunciations recorded") == "已記錄的三退聲明"


def test_the_catalogue_uses_the_words_of_taiwan_and_hong_kong() -> None:
    hant = _catalogue("zh_Hant")
    assert hant["Log in"] == "登入"  # not the mainland's 登录
    assert hant["Save"] == "儲存"
    # A statement stays a statement (聲明), not a programmer's declaration (宣告).
    assert "聲明" in hant["Renunciations recorded"]


@pytest.mark.django_db
def test_a_traditional_reader_gets_the_interface_in_traditional_characters(
    client: Client,
) -> None:
    page = client.get(reverse("public:home"), headers={"accept-language": "zh-TW,zh;q=0.9"})
    assert '<html lang="zh-hant">' in page.text
    assert "已記錄的三退聲明" in page.text
    assert "繁體中文" in page.text  # the switch offers it, named in itself


@pytest.mark.django_db
def test_the_switch_offers_traditional_chinese(client: Client) -> None:
    client.post(reverse("set_language"), {"language": "zh-hant", "next": "/"})
    assert "已記錄的三退聲明" in client.get(reverse("public:home")).text


def test_text_people_wrote_is_shown_in_the_readers_script() -> None:
    written = "我们一家四口声明退出共产党，湖北"
    assert in_reader_script(written, "zh-hant") == "我們一家四口聲明退出共產黨，湖北"
    assert in_reader_script("我們退出", "zh-hans") == "我们退出"
    assert in_reader_script(written, "en") == written
    assert region_name("CN-HB", chinese=True) == "湖北"


@given(st.text(alphabet="我们一家声明退出共产党团队国际发后里面干台湾", max_size=30))
def test_converting_to_traditional_and_back_keeps_the_simplified_text(text: str) -> None:
    assert to_simplified(to_traditional(text)) == text
