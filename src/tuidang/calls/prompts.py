"""What the hotline says to callers and volunteers, per language.

Built-in texts for every prompt, which coordinators override per number (or for every
number) with their own text, a text-to-speech voice, or an uploaded recording: see
``NumberPrompt``. Texts may use the placeholders ``{ahead}`` and ``{minutes}`` where the
built-in text does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from tuidang.lib.languages import Language

if TYPE_CHECKING:
    from tuidang.calls.models import HotlineNumber


@dataclass(frozen=True)
class Prompt:
    text: str
    language: str
    voice: str = ""
    audio_url: str = ""


class Kind(models.TextChoices):
    GREETING = "greeting", _("Greeting")
    HOLD = "hold", _("On hold (may use {ahead})")
    ESTIMATE = "estimate", _("Estimated wait (may use {minutes})")
    OFFER_VOICEMAIL = "offer_voicemail", _("Offer of voicemail")
    NO_ONE_NOW = "no_one_now", _("No volunteer on duty")
    VOICEMAIL = "voicemail", _("Voicemail instructions")
    STAY = "stay", _("Stay on the line")
    CONNECTING = "connecting", _("Connecting")
    GOODBYE = "goodbye", _("Goodbye")
    HOW_HEARD = "how_heard", _("How did you hear of this number")
    SCREENED = "screened", _("Message for screened callers")
    CHALLENGE = "challenge", _("Keypad challenge (may use {digit})")


MENU_ORDER = [Language.MANDARIN, Language.CANTONESE, Language.ENGLISH]
DEFAULT_LANGUAGE = Language.MANDARIN

BUILT_IN: dict[str, dict[str, str]] = {
    Kind.GREETING: {
        Language.MANDARIN: "您好，这里是退党热线。",
        Language.CANTONESE: "你好，呢度係退黨熱線。",
        Language.ENGLISH: "Hello, this is the Tuidang hotline.",
    },
    Kind.HOLD: {
        Language.MANDARIN: "志愿者马上就来。您前面还有{ahead}位来电者。",
        Language.CANTONESE: "義工好快就嚟。你前面仲有{ahead}位來電者。",
        Language.ENGLISH: "A volunteer will be with you shortly. Callers ahead of you: {ahead}.",
    },
    Kind.ESTIMATE: {
        Language.MANDARIN: "预计等候约{minutes}分钟。",
        Language.CANTONESE: "預計等候大約{minutes}分鐘。",
        Language.ENGLISH: "The estimated wait is about {minutes} minutes.",
    },
    Kind.OFFER_VOICEMAIL: {
        Language.MANDARIN: "如果您想留言，请按1；我们会给您回电。",
        Language.CANTONESE: "如果你想留言，請按1；我哋會覆電俾你。",
        Language.ENGLISH: "To leave a message and be called back, press 1.",
    },
    Kind.NO_ONE_NOW: {
        Language.MANDARIN: "现在没有志愿者能接听您的电话。",
        Language.CANTONESE: "而家冇義工可以接聽你嘅電話。",
        Language.ENGLISH: "No volunteer can take your call right now.",
    },
    Kind.VOICEMAIL: {
        Language.MANDARIN: "请在提示音后留言，留言完毕请按井号键。",
        Language.CANTONESE: "請喺嘟一聲之後留言，完咗請按井號。",
        Language.ENGLISH: "Please leave a message after the tone, then press the pound key.",
    },
    Kind.STAY: {
        Language.MANDARIN: "请继续等候。",
        Language.CANTONESE: "請繼續等候。",
        Language.ENGLISH: "Please stay on the line.",
    },
    Kind.CONNECTING: {
        Language.MANDARIN: "正在为您接通志愿者。",
        Language.CANTONESE: "而家幫你接駁義工。",
        Language.ENGLISH: "Connecting you to a volunteer.",
    },
    Kind.GOODBYE: {
        Language.MANDARIN: "谢谢您的来电，再见。",
        Language.CANTONESE: "多謝你嘅來電，再見。",
        Language.ENGLISH: "Thank you for calling. Goodbye.",
    },
    Kind.SCREENED: {
        Language.MANDARIN: "这条热线是为想了解真相、想退出中共组织的人开设的。"
        "请把线路留给他们。愿您平安。",
        Language.CANTONESE: "呢條熱線係俾想了解真相、想退出中共組織嘅人。請將線路留俾佢哋。",
        Language.ENGLISH: "This line is for people who want to learn the facts and leave the "
        "Party's organizations. Please leave it free for them.",
    },
    Kind.CHALLENGE: {
        Language.MANDARIN: "请按数字{digit}继续。",
        Language.CANTONESE: "請按數字{digit}繼續。",
        Language.ENGLISH: "To continue, press {digit}.",
    },
    Kind.HOW_HEARD: {
        Language.MANDARIN: "您是从哪里知道这个号码的？纸币请按1，传单请按2，电台请按3，"
        "网站请按4，亲友介绍请按5，其他请按6。",
        Language.CANTONESE: "你喺邊度知道呢個號碼？紙幣請按1，傳單請按2，電台請按3，"
        "網站請按4，親友介紹請按5，其他請按6。",
        Language.ENGLISH: "How did you hear of this number? Banknotes, press 1. Flyers, 2. "
        "Radio, 3. A website, 4. Someone told you, 5. Anything else, 6.",
    },
}
_MENU_ENTRY = {
    Language.MANDARIN: "普通话请按{digit}。",
    Language.CANTONESE: "廣東話請按{digit}。",
    Language.ENGLISH: "For English, press {digit}.",
}
# The answers to "how did you hear of this number", by digit (channel values).
HOW_HEARD_CHANNELS = {
    "1": "banknotes",
    "2": "flyers",
    "3": "radio",
    "4": "website",
    "5": "referral",
    "6": "other",
}
_LANGUAGE_NAME = {
    Language.MANDARIN: "Mandarin",
    Language.CANTONESE: "Cantonese",
    Language.ENGLISH: "English",
}


def say(
    kind: str, language: str, *, number: HotlineNumber | None = None, **values: object
) -> Prompt:
    """The prompt of ``kind`` in ``language``: the number's own, every number's, or built in."""
    from tuidang.calls.selectors import prompt_override

    language = language or DEFAULT_LANGUAGE
    custom = prompt_override(kind, language, number.pk if number is not None else None)
    text = custom.text if custom is not None and custom.text else BUILT_IN[kind][language]
    text = text.format_map(defaultdict(str, {key: str(value) for key, value in values.items()}))
    if custom is None:
        return Prompt(text, language)
    return Prompt(text, language, voice=custom.voice, audio_url=custom.audio_url())


def greeting_and_menu(number: HotlineNumber | None = None) -> list[Prompt]:
    prompts = [say(Kind.GREETING, DEFAULT_LANGUAGE, number=number)]
    for digit, language in enumerate(MENU_ORDER, start=1):
        prompts.append(Prompt(_MENU_ENTRY[language].format(digit=digit), language))
    return prompts


def language_for_digit(digits: str) -> str | None:
    if digits.isdigit() and 1 <= int(digits) <= len(MENU_ORDER):
        return MENU_ORDER[int(digits) - 1].value
    return None


def not_in_service() -> list[Prompt]:
    return [
        Prompt("您拨打的号码暂停服务。", Language.MANDARIN),
        Prompt("The number you have called is not in service.", Language.ENGLISH),
    ]


# Volunteers hear the whisper in English: it names the caller's language.
def whisper(language: str) -> Prompt:
    name = _LANGUAGE_NAME[Language(language)]
    return Prompt(f"Hotline call in {name}. Press 1 to accept.", Language.ENGLISH)


def offer_gone() -> Prompt:
    return Prompt("This call has been taken or the caller has hung up.", Language.ENGLISH)
