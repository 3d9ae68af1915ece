"""The interface speaks English and Simplified Chinese, chosen by the browser or a switch."""

import gettext
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.testing.personas import PASSWORD
from tuidang.volunteers.models import Volunteer

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_the_public_page_speaks_chinese_to_a_chinese_browser(client: Client) -> None:
    page = client.get(reverse("public:home"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert "已记录的三退声明" in page.text
    assert '<html lang="zh-hans">' in page.text


@pytest.mark.django_db
def test_the_public_page_speaks_english_to_an_english_browser(client: Client) -> None:
    page = client.get(reverse("public:home"), headers={"accept-language": "en-US,en;q=0.9"})
    assert "Renunciations recorded" in page.text


@pytest.mark.django_db
def test_the_switch_turns_a_volunteers_desk_chinese(client: Client, mei: Volunteer) -> None:
    client.login(username="mei", password=PASSWORD)
    assert "Go available" in client.get(reverse("desk:desk")).text
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("desk:desk")})
    desk = client.get(reverse("desk:desk")).text
    assert "开始接听" in desk
    assert "Go available" not in desk


def test_every_message_is_translated() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = re.findall(
        r'^msgid "(.+)"\n(?:msgid_plural ".*"\n)?msgstr(?:\[0\])? "(.*)"$', text, re.M
    )
    assert len(entries) > 200
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    # The compiled catalogue is what Django reads: it must hold every translation.
    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    stale = [
        msgid
        for msgid, msgstr in entries
        if "%" not in msgid and translations.gettext(msgid.replace('\\"', '"')) == msgid
    ]
    assert stale == []
