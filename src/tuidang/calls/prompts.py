"""What the hotline says to callers and volunteers, per language.

These are the built-in texts; recorded greetings per number come with the IVR editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuidang.lib.languages import Language


@dataclass(frozen=True)
class Prompt:
    text: str
    language: str


MENU_ORDER = [Language.MANDARIN, Language.CANTONESE, Language.ENGLISH]
DEFAULT_LANGUAGE = Language.MANDARIN

_GREETING = {
    Language.MANDARIN: "您好，这里是退党热线。",
    Language.CANTONESE: "你好，呢度係退黨熱線。",
    Language.ENGLISH: "Hello, this is the Tuidang hotline.",
}
_MENU_ENTRY = {
    Language.MANDARIN: "普通话请按{digit}。",
    Language.CANTONESE: "廣東話請按{digit}。",
    Language.ENGLISH: "For English, press {digit}.",
}
_HOLD = {
    Language.MANDARIN: "志愿者马上就来。您前面还有{ahead}位来电者。",
    Language.CANTONESE: "義工好快就嚟。你前面仲有{ahead}位來電者。",
    Language.ENGLISH: "A volunteer will be with you shortly. Callers ahead of you: {ahead}.",
}
_ESTIMATE = {
    Language.MANDARIN: "预计等候约{minutes}分钟。",
    Language.CANTONESE: "預計等候大約{minutes}分鐘。",
    Language.ENGLISH: "The estimated wait is about {minutes} minutes.",
}
_OFFER_VOICEMAIL = {
    Language.MANDARIN: "如果您想留言，请按1；我们会给您回电。",
    Language.CANTONESE: "如果你想留言，請按1；我哋會覆電俾你。",
    Language.ENGLISH: "To leave a message and be called back, press 1.",
}
_NO_ONE_NOW = {
    Language.MANDARIN: "现在没有志愿者能接听您的电话。",
    Language.CANTONESE: "而家冇義工可以接聽你嘅電話。",
    Language.ENGLISH: "No volunteer can take your call right now.",
}
_VOICEMAIL = {
    Language.MANDARIN: "请在提示音后留言，留言完毕请按井号键。",
    Language.CANTONESE: "請喺嘟一聲之後留言，完咗請按井號。",
    Language.ENGLISH: "Please leave a message after the tone, then press the pound key.",
}
_STAY = {
    Language.MANDARIN: "请继续等候。",
    Language.CANTONESE: "請繼續等候。",
    Language.ENGLISH: "Please stay on the line.",
}
_CONNECTING = {
    Language.MANDARIN: "正在为您接通志愿者。",
    Language.CANTONESE: "而家幫你接駁義工。",
    Language.ENGLISH: "Connecting you to a volunteer.",
}
_GOODBYE = {
    Language.MANDARIN: "谢谢您的来电，再见。",
    Language.CANTONESE: "多謝你嘅來電，再見。",
    Language.ENGLISH: "Thank you for calling. Goodbye.",
}
_LANGUAGE_NAME = {
    Language.MANDARIN: "Mandarin",
    Language.CANTONESE: "Cantonese",
    Language.ENGLISH: "English",
}


def greeting_and_menu() -> list[Prompt]:
    prompts = [Prompt(_GREETING[DEFAULT_LANGUAGE], DEFAULT_LANGUAGE)]
    for digit, language in enumerate(MENU_ORDER, start=1):
        prompts.append(Prompt(_MENU_ENTRY[language].format(digit=digit), language))
    return prompts


def greeting(language: str) -> Prompt:
    return Prompt(_GREETING[Language(language)], language)


def language_for_digit(digits: str) -> str | None:
    if digits.isdigit() and 1 <= int(digits) <= len(MENU_ORDER):
        return MENU_ORDER[int(digits) - 1].value
    return None


def hold(language: str, *, ahead: int) -> Prompt:
    return Prompt(_HOLD[Language(language)].format(ahead=ahead), language)


def estimate(language: str, *, minutes: int) -> Prompt:
    return Prompt(_ESTIMATE[Language(language)].format(minutes=minutes), language)


def offer_voicemail(language: str) -> Prompt:
    return Prompt(_OFFER_VOICEMAIL[Language(language)], language)


def no_one_now(language: str) -> Prompt:
    return Prompt(_NO_ONE_NOW[Language(language)], language)


def voicemail(language: str) -> Prompt:
    return Prompt(_VOICEMAIL[Language(language)], language)


def stay(language: str) -> Prompt:
    return Prompt(_STAY[Language(language)], language)


def connecting(language: str) -> Prompt:
    return Prompt(_CONNECTING[Language(language)], language)


def goodbye(language: str) -> Prompt:
    return Prompt(_GOODBYE[Language(language or DEFAULT_LANGUAGE)], language or DEFAULT_LANGUAGE)


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
