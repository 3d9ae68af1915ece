"""What a caller (or a volunteer's phone) hears next, decided here, said by the provider.

Each function handles one provider event: it calls the services, then answers with the
steps to play, in words any provider can render (a Twilio adapter renders them as TwiML).
A step that leads to another request names it with ``Next`` and the ids it needs; the
adapter turns that into its own webhook URL.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings

from tuidang.calls import prompts, selectors, statements
from tuidang.calls.case_codes import format_case_code
from tuidang.calls.models import Call, ListenIn, Offer, Transfer, Voicemail
from tuidang.calls.ports import LegOutcome, Party
from tuidang.calls.prompts import Prompt, PromptKind
from tuidang.calls.services import (
    UnknownCall,
    call_choose_how_heard,
    call_choose_language,
    call_conference_left,
    call_connect,
    call_pass_challenge,
    call_receive,
    call_to_voicemail,
    call_wait,
    listen_in_answered,
    offer_dial_ended,
    offer_respond,
    transfer_offer_taken,
    transfer_respond,
    voicemail_callback_leg_ended,
    voicemail_callback_reached,
    voicemail_callback_result,
    voicemail_received,
)
from tuidang.screening.models import Policy

logger = logging.getLogger(__name__)

# Seconds a caller has to press a digit in a menu.
MENU_TIMEOUT = 6
# Seconds of hold between two position announcements.
HOLD_PAUSE = 15
# Seconds the caller's phone rings when a volunteer calls them back.
CALLBACK_RING_SECONDS = 30


class Next(enum.Enum):
    """The request a step leads to (each adapter has a webhook for each)."""

    LANGUAGE = "language"
    HOW_HEARD = "how-heard"
    CHALLENGE = "challenge"
    WAIT = "wait"
    WAIT_CHOICE = "wait-choice"
    QUEUE_EXIT = "queue-exit"
    VOICEMAIL = "voicemail"
    BRIDGE = "bridge"
    OFFER_RESPOND = "offer-respond"
    OFFER_DIAL_ENDED = "offer-dial-ended"
    CALLBACK_DONE = "callback-done"
    CALLBACK_REACHED = "callback-reached"
    TRANSFER_RESPOND = "transfer-respond"
    CONFERENCE_EVENT = "conference-event"


@dataclass(frozen=True)
class Action:
    next: Next
    ids: Mapping[str, object] = field(default_factory=dict)


# --- Steps --------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    text: str
    language: str
    voice: str = ""


@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Pause:
    seconds: int


@dataclass(frozen=True)
class Gather:
    """Wait for ``digits`` keys while saying ``spoken``; then ``action`` with the keys."""

    action: Action
    spoken: tuple[Say | Play, ...]
    digits: int = 1
    timeout: int = MENU_TIMEOUT


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in ``queue``; ``wait`` is played while they hold, ``exit`` follows."""

    queue: str
    exit: Action
    wait: Action


@dataclass(frozen=True)
class Leave:
    """Take the caller out of their queue (to the queue's exit action)."""


@dataclass(frozen=True)
class Record:
    action: Action
    max_seconds: int
    finish_on_key: str = "#"
    beep: bool = True


@dataclass(frozen=True)
class Redirect:
    action: Action


@dataclass(frozen=True)
class DialQueue:
    """Bridge this leg to the caller at the front of ``queue``, who first hears ``bridge``."""

    queue: str
    bridge: Action
    action: Action


@dataclass(frozen=True)
class DialNumber:
    number: str
    caller_id: str
    timeout: int
    action: Action
    # Requested when the number answers, before the two are connected.
    reached: Action | None = None


@dataclass(frozen=True)
class Conference:
    """Join the conference ``room``. Until someone who ``starts`` it is there, the leg
    hears hold music; nobody hears a ``muted`` leg."""

    room: str
    starts: bool
    muted: bool = False
    # Where the provider reports participants joining and leaving.
    events: Action | None = Action(Next.CONFERENCE_EVENT)


@dataclass(frozen=True)
class Reject:
    """Refuse the call before answering: the caller hears it ring out, nobody pays."""


@dataclass(frozen=True)
class Hangup:
    pass


Step = (
    (Say | Play | Pause | Gather | Enqueue | Leave | Record | Redirect | DialQueue | DialNumber)
    | Conference
    | Reject
    | Hangup
)


@dataclass(frozen=True)
class Reply:
    """The steps to play. When ``cache_key`` is set, the steps are the same for every
    request with that key until the numbers' or prompts' configuration changes: an
    adapter may keep what it rendered under it (with its own prefix) for
    ``selectors.CACHE_SECONDS`` and then need not call ``build``."""

    steps: tuple[Step, ...] = ()
    cache_key: str = ""
    build: Callable[[], tuple[Step, ...]] | None = None

    def all_steps(self) -> tuple[Step, ...]:
        return self.build() if self.build is not None else self.steps


def reply(*steps: Step) -> Reply:
    return Reply(steps=steps)


def speak(spoken: Iterable[Prompt]) -> tuple[Say | Play, ...]:
    """Each prompt: its recording when it has one, else its text in its language."""
    return tuple(
        Play(prompt.audio_url)
        if prompt.audio_url
        else Say(prompt.text, prompt.language, prompt.voice)
        for prompt in spoken
    )


def _say_and_hang_up(spoken: Iterable[Prompt]) -> Reply:
    return reply(*speak(spoken), Hangup())


def _goodbye(call: Call | None) -> Prompt:
    if call is None:
        return prompts.say(PromptKind.GOODBYE, "")
    return prompts.say(PromptKind.GOODBYE, call.language, number=call.hotline_number)


def _lost_call(provider_sid: str) -> Reply:
    logger.warning("Provider event for unknown call %s", provider_sid)
    return _say_and_hang_up([prompts.say(PromptKind.GOODBYE, "")])


def _one_key_menu(next_: Next, spoken: list[Prompt]) -> tuple[Step, ...]:
    """Ask for one key. Pressing nothing falls through the Gather to the same action with
    no digits, where the service decides (ask again, a default, or move on)."""
    action = Action(next_)
    return (Gather(action=action, spoken=speak(spoken)), Redirect(action))


def _enqueue(call: Call) -> Reply:
    steps: list[Step] = []
    if call.hotline_number.language:
        steps += speak(
            [prompts.say(PromptKind.GREETING, call.language, number=call.hotline_number)]
        )
    steps.append(Enqueue(call.language, exit=Action(Next.QUEUE_EXIT), wait=Action(Next.WAIT)))
    return reply(*steps)


def _language_menu(call: Call) -> Reply:
    """The same for every caller of a number: adapters may keep it rendered as long as the
    number's cached configuration (a change to a number or prompt renders it again)."""
    number = call.hotline_number
    return Reply(
        cache_key=f"language-menu:{number.pk}",
        build=lambda: _one_key_menu(Next.LANGUAGE, prompts.greeting_and_menu(number)),
    )


def _how_heard_menu(call: Call) -> Reply:
    question = prompts.say(PromptKind.HOW_HEARD, call.language, number=call.hotline_number)
    return reply(*_one_key_menu(Next.HOW_HEARD, [question]))


def _screened(call: Call) -> Reply:
    """The recorded message for screened callers, then goodbye."""
    return _say_and_hang_up(
        [prompts.say(PromptKind.SCREENED, call.language, number=call.hotline_number)]
    )


def _challenge(call: Call) -> Reply:
    challenge = prompts.say(
        PromptKind.CHALLENGE, call.language, number=call.hotline_number, digit=call.challenge_digit
    )
    return reply(*_one_key_menu(Next.CHALLENGE, [challenge, challenge]))


def _after_screening(call: Call) -> Reply:
    if call.language:
        return _enqueue(call)
    return _language_menu(call)


# --- The caller ---------------------------------------------------------------------


def incoming_call(*, provider_sid: str, caller_from: str, dialled: str) -> Reply:
    """A call to one of the hotline's numbers (or to a number that is not one)."""
    call = call_receive(provider_sid=provider_sid, caller_from=caller_from, dialled=dialled)
    if call is None:
        return _say_and_hang_up(prompts.not_in_service())
    if call.ended_at is not None:
        return _say_and_hang_up([prompts.say(PromptKind.GOODBYE, call.language)])
    if call.screening_policy == Policy.REJECT:
        return reply(Reject())
    if call.state == Call.State.SCREENED:
        return _screened(call)
    if call.challenge_digit:
        return _challenge(call)
    return _after_screening(call)


def challenge_answered(*, provider_sid: str, digits: str) -> Reply:
    """The answer to flood mode's keypad challenge for withheld numbers."""
    try:
        call = call_pass_challenge(provider_sid=provider_sid, digits=digits)
    except UnknownCall:
        return _lost_call(provider_sid)
    if call is None:
        return _screened(Call.objects.get(provider_sid=provider_sid))
    return _after_screening(call)


def language_chosen(*, provider_sid: str, digits: str) -> Reply:
    try:
        result = call_choose_language(provider_sid=provider_sid, digits=digits)
    except UnknownCall:
        return _lost_call(provider_sid)
    if result.retry:
        return _language_menu(result.call)
    if result.ask_how_heard:
        return _how_heard_menu(result.call)
    return _enqueue(result.call)


def how_heard_answered(*, provider_sid: str, digits: str) -> Reply:
    """The caller's answer to "how did you hear of this number" (none: on to the queue)."""
    try:
        call = call_choose_how_heard(provider_sid=provider_sid, digits=digits)
    except UnknownCall:
        return _lost_call(provider_sid)
    return _enqueue(call)


def on_hold(*, provider_sid: str) -> Reply:
    """Played again and again while the caller waits in the queue."""
    try:
        status = call_wait(provider_sid=provider_sid)
    except UnknownCall:
        return _lost_call(provider_sid)
    language = status.call.language
    number = status.call.hotline_number
    if status.voicemail_now:
        no_one = speak([prompts.say(PromptKind.NO_ONE_NOW, language, number=number)])
        return reply(*no_one, Leave())  # to the queue's exit, which records a message
    hold = [prompts.say(PromptKind.HOLD, language, number=number, ahead=status.ahead)]
    if status.estimated_minutes is not None:
        minutes = status.estimated_minutes
        hold.append(prompts.say(PromptKind.ESTIMATE, language, number=number, minutes=minutes))
    if status.offer_voicemail:
        offer = prompts.say(PromptKind.OFFER_VOICEMAIL, language, number=number)
        spoken = speak([*hold, offer])
        return reply(Gather(action=Action(Next.WAIT_CHOICE), spoken=spoken, timeout=HOLD_PAUSE))
    return reply(*speak(hold), Pause(HOLD_PAUSE))


def hold_key_pressed(*, provider_sid: str, digits: str) -> Reply:
    """A key pressed on hold: 1 leaves the queue for voicemail; anything else stays."""
    if digits == "1":
        return reply(Leave())
    call = statements.call_by_sid(provider_sid)
    if call is None:
        return reply()
    selectors.with_number(call)  # from the cache, as every prompt's number
    return reply(*speak([prompts.say(PromptKind.STAY, call.language, number=call.hotline_number)]))


def queue_left(*, provider_sid: str, for_voicemail: bool) -> Reply:
    """The caller left the queue: to leave a message, or after the conversation ended."""
    if for_voicemail:
        call = call_to_voicemail(provider_sid=provider_sid)
        if call is not None:
            number = selectors.with_number(call).hotline_number
            return reply(
                *speak([prompts.say(PromptKind.VOICEMAIL, call.language, number=number)]),
                Record(action=Action(Next.VOICEMAIL), max_seconds=settings.VOICEMAIL_MAX_SECONDS),
                *speak([prompts.say(PromptKind.GOODBYE, call.language, number=number)]),
            )
    call = Call.objects.filter(provider_sid=provider_sid).first()
    return _say_and_hang_up([_goodbye(call)])


def voicemail_recorded(
    *, provider_sid: str, recording_id: str, recording_url: str, duration: int, caller_from: str
) -> Reply:
    """The message is recorded at the provider."""
    voicemail = voicemail_received(
        provider_sid=provider_sid,
        recording_id=recording_id,
        recording_url=recording_url,
        duration=duration,
        caller_from=caller_from,
    )
    if voicemail is None:
        return _lost_call(provider_sid)
    return _say_and_hang_up([_goodbye(selectors.with_number(voicemail.call))])


def caller_bridged(*, provider_sid: str, leg_id: str) -> Reply:
    """Played to the caller taken from the queue, just before the two are bridged."""
    try:
        call = call_connect(provider_sid=provider_sid, leg_sid=leg_id)
    except UnknownCall:
        return _lost_call(provider_sid)
    number = selectors.with_number(call).hotline_number
    connecting = prompts.say(PromptKind.CONNECTING, call.language, number=number)
    return reply(*speak([connecting]))


# --- The volunteer's phone ----------------------------------------------------------


def _offer_gone() -> Reply:
    return _say_and_hang_up([prompts.offer_gone()])


def offer_answered(*, token: str) -> Reply:
    """The volunteer picked up an offer: the whisper, so a voicemail never takes a call."""
    offer = statements.offer_with_call(token)
    if offer is None or offer.state != Offer.State.PENDING:
        return _offer_gone()
    whisper = speak([prompts.whisper(offer.call.language)] * 2)
    respond = Action(Next.OFFER_RESPOND, {"token": token})
    return reply(Gather(action=respond, spoken=whisper), Hangup())


def offer_key_pressed(*, token: str, digits: str, leg_id: str) -> Reply:
    """The volunteer's answer to the whisper: 1 takes the caller at the front of the queue."""
    try:
        accepted = offer_respond(token=token, digits=digits, leg_sid=leg_id)
    except Offer.DoesNotExist:
        return _offer_gone()
    if accepted is None:
        return _offer_gone()
    if accepted.call.conference:
        # A caller a cold transfer left waiting holds in their conference, not the queue.
        call = transfer_offer_taken(offer=accepted)
        return reply(Conference(call.conference, starts=True), Hangup())
    return reply(
        DialQueue(
            accepted.call.language,
            bridge=Action(Next.BRIDGE),
            action=Action(Next.OFFER_DIAL_ENDED, {"token": token}),
        )
    )


def offer_dial_finished(*, token: str) -> Reply:
    """The volunteer's bridge attempt ended (talked, or found no caller). A bridge ended
    by a warm transfer leaves the volunteer waiting for their colleague."""
    offer_dial_ended(token=token)
    offer = Offer.objects.select_related("call").filter(token=token).first()
    if offer is None or offer.state != Offer.State.ACCEPTED:
        return reply(Hangup())
    call = offer.call
    transfer = Transfer.objects.filter(
        call_id=call.pk,
        from_volunteer_id=offer.volunteer_id,
        state__in=[Transfer.State.RINGING, Transfer.State.CONSULTING],
    ).first()
    if transfer is not None:
        # Warm: wait for the colleague in the transfer's room; cold: their part is over.
        if transfer.warm:
            return reply(Conference(str(transfer.token), starts=True), Hangup())
        return reply(Hangup())
    if (
        call.conference
        and call.state == Call.State.CONNECTED
        and call.volunteer_id == offer.volunteer_id
    ):
        # The caller moved into their conference (a coordinator listens in): follow them.
        return reply(Conference(call.conference, starts=True), Hangup())
    return reply(Hangup())


# --- Transfers ----------------------------------------------------------------------


def transfer_answered(*, token: str) -> Reply:
    """The receiving volunteer picked up: who hands them which call, and press 1."""
    transfer = Transfer.objects.select_related("call", "from_volunteer").filter(token=token).first()
    if transfer is None or transfer.state != Transfer.State.RINGING:
        return _offer_gone()
    whisper = speak([prompts.transfer_whisper(transfer.call.language, transfer.warm)] * 2)
    respond = Action(Next.TRANSFER_RESPOND, {"token": token})
    return reply(Gather(action=respond, spoken=whisper), Hangup())


def transfer_key_pressed(*, token: str, digits: str, leg_id: str) -> Reply:
    """1 takes the call: warm, into the room where the first volunteer waits; cold,
    straight to the caller."""
    transfer = transfer_respond(token=token, digits=digits, leg_sid=leg_id)
    if transfer is None:
        return _offer_gone()
    return transfer_join(token=token, party=Party.RECEIVER)


def transfer_join(*, token: str, party: Party) -> Reply:
    """Where a leg moved by a transfer goes: the caller to their conference, to hold until
    a volunteer is there; a volunteer to the caller, or, while a warm transfer is under
    way, to the room where the two volunteers talk."""
    transfer = Transfer.objects.select_related("call").filter(token=token).first()
    if transfer is None or transfer.call.ended_at is not None:
        return reply(Hangup())
    room = transfer.call.conference
    if party == Party.CALLER:
        return reply(Conference(room, starts=False), Hangup())
    if transfer.warm and transfer.state in (Transfer.State.RINGING, Transfer.State.CONSULTING):
        room = str(transfer.token)
    return reply(Conference(room, starts=True), Hangup())


def callback_answered(*, voicemail_id: str, volunteer_id: int) -> Reply:
    """The volunteer answered their phone: dial the caller from the hotline's number."""
    voicemail = (
        Voicemail.objects.select_related("call__hotline_number")
        .filter(public_id=voicemail_id)
        .first()
    )
    number = voicemail.callback_number if voicemail else ""
    if voicemail is None or not number:
        return _offer_gone()
    code = format_case_code(voicemail.call.case_code)
    ids = {"public_id": voicemail_id, "volunteer_id": volunteer_id}
    return reply(
        *speak([Prompt(f"Calling back the caller of case {code}.", "en")]),
        DialNumber(
            number,
            caller_id=voicemail.call.hotline_number.e164,
            timeout=CALLBACK_RING_SECONDS,
            action=Action(Next.CALLBACK_DONE, ids),
            reached=Action(Next.CALLBACK_REACHED, ids),
        ),
    )


def callback_reached(*, voicemail_id: str, volunteer_id: int, leg_id: str) -> Reply:
    """The caller picked up: the call is on the volunteer's desk. Nothing is played to
    the caller before the two are connected."""
    voicemail_callback_reached(voicemail_id=voicemail_id, volunteer_id=volunteer_id, leg_id=leg_id)
    return reply()


def callback_dialled(
    *, voicemail_id: str, volunteer_id: int, outcome: LegOutcome, leg_id: str = ""
) -> Reply:
    """How dialling the caller went; the volunteer's leg then ends."""
    voicemail_callback_result(
        voicemail_id=voicemail_id, volunteer_id=volunteer_id, outcome=outcome, leg_id=leg_id
    )
    return reply(Hangup())


def callback_leg_ended(*, voicemail_id: str, volunteer_id: int, leg_id: str) -> None:
    """The volunteer's own leg of a call back ended."""
    voicemail_callback_leg_ended(
        voicemail_id=voicemail_id, volunteer_id=volunteer_id, leg_id=leg_id
    )


# --- Listen-in ----------------------------------------------------------------------


def listen_answered(*, token: str, leg_id: str) -> Reply:
    """The coordinator picked up: into the call's conference, muted, never starting it."""
    listen_in = listen_in_answered(token=token, leg_sid=leg_id)
    if listen_in is None:
        return _offer_gone()
    return reply(Conference(listen_in.call.conference, starts=False, muted=True), Hangup())


def listen_caller_join(*, token: str) -> Reply:
    """The caller, moved out of their bridge for a listen-in: into their conference."""
    listen_in = ListenIn.objects.select_related("call").filter(token=token).first()
    if listen_in is None or listen_in.call.ended_at is not None:
        return reply(Hangup())
    return reply(Conference(listen_in.call.conference, starts=False), Hangup())


def conference_participant_left(*, room: str, leg_id: str) -> None:
    """A leg left a conference (status callback): the volunteer's, from their caller's,
    with no transfer under way, ends the call as a bridge would have."""
    call_conference_left(room=room, leg_sid=leg_id)
