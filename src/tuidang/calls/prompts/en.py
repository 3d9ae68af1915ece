"""English."""

from __future__ import annotations

from collections.abc import Sequence

from tuidang.calls.prompts.kinds import PromptKind
from tuidang.lib.languages import Language

LANGUAGE = Language.ENGLISH
# Volunteers hear the whisper in English: it names the caller's language.
NAME = "English"
MENU_ENTRY = "For English, press {digit}."

TEXTS = {
    PromptKind.GREETING: "Hello, this is the Tuidang hotline.",
    PromptKind.HOLD: "A volunteer will be with you shortly. Callers ahead of you: {ahead}.",
    PromptKind.ESTIMATE: "The estimated wait is about {minutes} minutes.",
    PromptKind.OFFER_VOICEMAIL: "To leave a message and be called back, press 1.",
    PromptKind.NO_ONE_NOW: "No volunteer can take your call right now.",
    PromptKind.VOICEMAIL: "Please leave a message after the tone, then press the pound key.",
    PromptKind.STAY: "Please stay on the line.",
    PromptKind.CONNECTING: "Connecting you to a volunteer.",
    PromptKind.GOODBYE: "Thank you for calling. Goodbye.",
    PromptKind.SCREENED: "This line is for people who want to learn the facts and leave the "
    "Party's organizations. Please leave it free for them.",
    PromptKind.CHALLENGE: "To continue, press {digit}.",
}

# The answers to "how did you hear of this number", by ``HowHeard`` value.
HOW_HEARD_ANSWERS = {
    "banknotes": "Banknotes",
    "flyers": "Flyers",
    "radio": "Radio",
    "website": "A website",
    "referral": "Someone told you",
    "other": "Anything else",
}


def how_heard_menu(choices: Sequence[tuple[str, str]]) -> str:
    """The question and its answers, from (digit, answer) pairs in the order pressed."""
    answers = [f"{answer}, {digit}." for digit, answer in choices]
    if answers:
        digit, answer = choices[0]
        answers[0] = f"{answer}, press {digit}."
    return " ".join(["How did you hear of this number?", *answers])
