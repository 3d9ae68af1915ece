"""A call with everything the hotline seals, recorded through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from tuidang.calls import recordings
from tuidang.calls.models import Call, CallNote, Voicemail
from tuidang.calls.services import call_receive, call_record
from tuidang.declarations.models import Declaration
from tuidang.declarations.services import Person, declaration_record
from tuidang.literature.models import BookRequest, Delivery, Format, Title
from tuidang.literature.services import book_request_create
from tuidang.testing.personas import BANKNOTES_LINE
from tuidang.volunteers.models import Volunteer

ALIAS = "Wang Ming"
STATEMENT = "I leave of my own free will"
NOTE = "Her uncle in Changzhou wants to quit too"
ADDRESS = "Room 5, 12 Huaihai Road, Shanghai"
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt a message for the hotline"


@dataclass
class Records:
    call: Call
    declaration: Declaration
    note: CallNote
    book_request: BookRequest
    voicemail: Voicemail


def record_a_call(*, volunteer: Volunteer, caller: str, sid: str) -> Records:
    call = call_receive(provider_sid=sid, caller_from=caller, dialled=BANKNOTES_LINE)
    assert call is not None
    [declaration] = declaration_record(
        call=call,
        people=[Person(alias=ALIAS, organizations=frozenset({"party"}), statement=STATEMENT)],
        recorded_by=volunteer.user,
    )
    call_record(call=call, types=["renunciation", "book_request"], note=NOTE, volunteer=volunteer)
    title, _ = Title.objects.get_or_create(
        name="Nine Commentaries", language="zh-hans", format=Format.PRINTED
    )
    request = book_request_create(
        call=call, titles=[title], delivery=Delivery.POST, address=ADDRESS, volunteer=volunteer
    )
    voicemail = Voicemail(call=call, recording_sid=f"RE{sid}", duration_seconds=9)
    voicemail.callback_number = caller
    voicemail.stored_name = recordings.store(voicemail, AUDIO)
    voicemail.state = Voicemail.State.STORED
    voicemail.save()
    return Records(call, declaration, call.notes.get(), request, voicemail)
