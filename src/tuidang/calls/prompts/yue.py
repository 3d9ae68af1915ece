"""Cantonese (廣東話)."""

from __future__ import annotations

from collections.abc import Sequence

from tuidang.calls.prompts.kinds import PromptKind
from tuidang.lib.languages import Language

LANGUAGE = Language.CANTONESE
# Volunteers hear the whisper in English: it names the caller's language.
NAME = "Cantonese"
MENU_ENTRY = "廣東話請按{digit}。"

TEXTS = {
    PromptKind.GREETING: "你好，呢度係退黨熱線。",
    PromptKind.HOLD: "義工好快就嚟。你前面仲有{ahead}位來電者。",
    PromptKind.ESTIMATE: "預計等候大約{minutes}分鐘。",
    PromptKind.OFFER_VOICEMAIL: "如果你想留言，請按1；我哋會覆電俾你。",
    PromptKind.NO_ONE_NOW: "而家冇義工可以接聽你嘅電話。",
    PromptKind.VOICEMAIL: "請喺嘟一聲之後留言，完咗請按井號。",
    PromptKind.STAY: "請繼續等候。",
    PromptKind.CONNECTING: "而家幫你接駁義工。",
    PromptKind.GOODBYE: "多謝你嘅來電，再見。",
    PromptKind.SCREENED: "呢條熱線係俾想了解真相、想退出中共組織嘅人。請將線路留俾佢哋。",
    PromptKind.CHALLENGE: "請按數字{digit}繼續。",
}

# The answers to "how did you hear of this number", by ``HowHeard`` value.
HOW_HEARD_ANSWERS = {
    "banknotes": "紙幣",
    "flyers": "傳單",
    "radio": "電台",
    "website": "網站",
    "referral": "親友介紹",
    "other": "其他",
}


def how_heard_menu(choices: Sequence[tuple[str, str]]) -> str:
    """The question and its answers, from (digit, answer) pairs in the order pressed."""
    return "你喺邊度知道呢個號碼？" + "，".join(f"{a}請按{d}" for d, a in choices) + "。"
