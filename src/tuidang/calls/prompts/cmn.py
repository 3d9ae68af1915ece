"""Mandarin (普通话)."""

from __future__ import annotations

from collections.abc import Sequence

from tuidang.calls.prompts.kinds import PromptKind
from tuidang.lib.languages import Language

LANGUAGE = Language.MANDARIN
# Volunteers hear the whisper in English: it names the caller's language.
NAME = "Mandarin"
MENU_ENTRY = "普通话请按{digit}。"

TEXTS = {
    PromptKind.GREETING: "您好，这里是退党热线。",
    PromptKind.HOLD: "志愿者马上就来。您前面还有{ahead}位来电者。",
    PromptKind.ESTIMATE: "预计等候约{minutes}分钟。",
    PromptKind.OFFER_VOICEMAIL: "如果您想留言，请按1；我们会给您回电。",
    PromptKind.NO_ONE_NOW: "现在没有志愿者能接听您的电话。",
    PromptKind.VOICEMAIL: "请在提示音后留言，留言完毕请按井号键。",
    PromptKind.STAY: "请继续等候。",
    PromptKind.CONNECTING: "正在为您接通志愿者。",
    PromptKind.GOODBYE: "谢谢您的来电，再见。",
    PromptKind.SCREENED: "这条热线是为想了解真相、想退出中共组织的人开设的。"
    "请把线路留给他们。愿您平安。",
    PromptKind.CHALLENGE: "请按数字{digit}继续。",
}

# The answers to "how did you hear of this number", by ``HowHeard`` value.
HOW_HEARD_ANSWERS = {
    "banknotes": "纸币",
    "flyers": "传单",
    "radio": "电台",
    "website": "网站",
    "referral": "亲友介绍",
    "other": "其他",
}


def how_heard_menu(choices: Sequence[tuple[str, str]]) -> str:
    """The question and its answers, from (digit, answer) pairs in the order pressed."""
    return "您是从哪里知道这个号码的？" + "，".join(f"{a}请按{d}" for d, a in choices) + "。"
