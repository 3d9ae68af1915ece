"""The desk in Simplified Chinese has no English left on a call's path.

Each page a volunteer or coordinator meets during a call is rendered twice, in English and
in zh-Hans, from the same state. A text node (or a placeholder, title or label) with Latin
words that reads the same in both is an interface string left untranslated; what is the
same in every language (names, case codes, numbers, codes such as E.164) is not a word of
the interface and is listed in ``SAME_IN_EVERY_LANGUAGE``."""

from __future__ import annotations

import re
import zoneinfo
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.lib.chinese import TRADITIONAL, to_traditional
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, Clock, HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

# Words that are no interface string: people's and the project's names, formats, codes,
# a key's name on the keyboard (Alt), and each language named in itself in the switcher.
SAME_IN_EVERY_LANGUAGE = {"Mei", "Lin", "Tuidang", "SIP", "UTC", "PDF", "Alt", "English"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class _Texts(HTMLParser):
    """The text a person reads on a page: text nodes outside scripts and styles, and the
    attributes read aloud or shown (placeholder, title, aria-label, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "alt") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def is_interface_words(text: str) -> bool:
    if text in zoneinfo.available_timezones():
        return False  # a time zone's identifier (Asia/Shanghai), in every language
    words = set(LATIN_WORD.findall(text)) - SAME_IN_EVERY_LANGUAGE
    return bool(words)


def untranslated(
    client: Client, url: str, data: frozenset[str] = frozenset(), language: str = "zh-hans"
) -> list[str]:
    """The texts of ``url`` in Chinese that read as they do in English, but for ``data``
    (what the page shows of the records, the same in every language); in Traditional
    Chinese, also those left in Simplified characters."""
    english = client.get(url, headers={"accept-language": "en"})
    chinese = client.get(url, headers={"accept-language": language})
    assert english.status_code == chinese.status_code == 200, url
    assert re.search("[\u4e00-\u9fff]", chinese.text), url  # it is in Chinese at all
    assert chinese.headers["Content-Language"] == language, url
    same = set(texts(english.text)) & set(texts(chinese.text)) - data
    left = {text for text in same if is_interface_words(text)}
    if language == TRADITIONAL:
        left |= {text for text in texts(chinese.text) if in_simplified(text)}
    return sorted(left)


# Characters OpenCC would convert that Traditional Chinese also writes as they are
# (里 a village, 干 a shield, 台 a stage, 后 a queen): their presence proves nothing.
IN_BOTH_SCRIPTS = set("里干台后于余只才向松冬谷丑斗")
# The switch names each language in itself.
LANGUAGE_NAMES = {"简体中文"}


def in_simplified(text: str) -> bool:
    """Whether ``text`` holds a character written otherwise in Traditional Chinese."""
    return text not in LANGUAGE_NAMES and any(
        to_traditional(char) != char for char in set(text) - IN_BOTH_SCRIPTS
    )


def test_it_finds_an_english_string_left_in_a_chinese_page() -> None:
    assert in_simplified("通话") and not in_simplified("通話") and not in_simplified("烏干達")
    english = "<p>通话</p><p>End call</p><button title='Answer'>x</button>"
    assert sorted(t for t in texts(english) if is_interface_words(t)) == ["Answer", "End call"]
    assert not is_interface_words("Mei · 1234-5678 · E.164")


def test_the_desks_pages_on_a_calls_path_have_no_english_left(
    client: Client,
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    assert walk(client, network, clock, mei, lin, language="zh-hans") == {}


def test_the_desks_pages_in_traditional_chinese_have_no_english_nor_simplified_left(
    client: Client,
    network: PhoneNetwork,
    clock: Clock,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    assert walk(client, network, clock, mei, lin, language=TRADITIONAL) == {}


def walk(
    client: Client,
    network: PhoneNetwork,
    clock: Clock,
    mei: Volunteer,
    lin: Volunteer,
    *,
    language: str,
) -> dict[str, list[str]]:
    """The strings left untranslated on each page a call's path meets, by page."""
    # A message waiting to be called back, left while nobody was on duty.
    caller = network.dial(from_number="+8613900000055", to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    clock.advance(8)
    network.press(caller.sid, "#")

    found: dict[str, list[str]] = {}
    client.force_login(mei.user)
    call = connect(network, mei, CALLER)
    on_call = [
        reverse("desk:desk"),
        reverse("desk:live"),
        reverse("desk:callbacks"),
        reverse("desk:profile"),
        reverse("desk:open-case") + f"?code={call.case_code}",
    ]
    for url in on_call:
        found[url] = untranslated(
            client, url, data=frozenset({mei.phone_address}), language=language
        )
    client.post(reverse("desk:record-call", args=[call.pk]), {"types": ["renunciation"]})
    client.post(reverse("desk:hang-up", args=[call.pk]))
    assert Call.objects.get(pk=call.pk).ended_at is not None
    for url in [reverse("desk:desk"), reverse("desk:open-case") + f"?code={call.case_code}"]:
        found[f"{url} (wrap-up)"] = untranslated(client, url, language=language)

    client.force_login(lin.user)
    for url in [
        reverse("desk:team"),
        reverse("desk:books"),
        reverse("desk:screening"),
        reverse("desk:callbacks"),
    ]:
        found[f"{url} (coordinator)"] = untranslated(client, url, language=language)

    return {url: strings for url, strings in found.items() if strings}


def test_the_shift_pages_have_no_english_left(
    client: Client, mei: Volunteer, lin: Volunteer
) -> None:
    from datetime import time, timedelta

    from django.utils import timezone

    from tuidang.shifts.services import shift_create, slot_assign

    shift, _notes = shift_create(
        language="cmn",
        time_zone="America/Toronto",
        weekly=True,
        first_date=timezone.now().date() + timedelta(days=1),
        last_date=None,
        start_time=time(22),
        end_time=time(2),
        min_heads=1,
        target_heads=2,
        notice_hours=24,
    )
    first, second = shift.slots.order_by("starts_at")[:2]
    slot_assign(slot=first, volunteer=mei, by=mei)
    found: dict[str, list[str]] = {}
    client.force_login(mei.user)
    client.post(reverse("desk:feed-new"))
    for language in ("zh-hans", TRADITIONAL):
        found[f"shifts {language}"] = untranslated(
            client, reverse("desk:shifts"), language=language
        )
    client.force_login(lin.user)
    slot_assign(slot=second, volunteer=lin, by=lin)  # inside nothing: Drop shown
    for url in [
        reverse("desk:shifts"),
        reverse("desk:shift-new"),
        reverse("desk:slot", args=[first.pk]),
        reverse("desk:coverage"),
    ]:
        for language in ("zh-hans", TRADITIONAL):
            found[f"{url} {language}"] = untranslated(
                client, url, data=frozenset({"CSV"}), language=language
            )
    assert {url: strings for url, strings in found.items() if strings} == {}
