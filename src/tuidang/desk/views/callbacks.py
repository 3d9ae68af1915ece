"""Callback requests: voicemails for volunteers to listen to and call back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls import recordings
from tuidang.calls.models import Voicemail
from tuidang.calls.services import NoNumberToCall, VolunteerBusy, voicemail_call_back
from tuidang.desk.decorators import volunteer_required
from tuidang.volunteers.models import Volunteer


def _visible(volunteer: Volunteer) -> QuerySet[Voicemail]:
    """Coordinators see every request; volunteers those in languages they speak."""
    voicemails = Voicemail.objects.select_related("call")
    if volunteer.is_coordinator:
        return voicemails
    return voicemails.filter(call__language__in=volunteer.language_codes())


@login_required
@require_GET
@volunteer_required
def callback_list(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    open_requests = _visible(volunteer).filter(handled_at__isnull=True)
    return render(request, "desk/callbacks.html", {"voicemails": open_requests})


@login_required
@require_GET
@never_cache
@volunteer_required
def callback_audio(request: HttpRequest, volunteer: Volunteer, public_id: str) -> HttpResponse:
    voicemail = get_object_or_404(
        _visible(volunteer), public_id=public_id, state=Voicemail.State.STORED
    )
    audio = recordings.load(voicemail)
    audit_record(actor=request.user, action=Action.PLAY, target=voicemail)
    return HttpResponse(audio, content_type="audio/wav")


@login_required
@require_POST
@volunteer_required
def callback_call_back(request: HttpRequest, volunteer: Volunteer, public_id: str) -> HttpResponse:
    """Ring the volunteer's phone, then the caller's, from the hotline's own number."""
    voicemail = get_object_or_404(_visible(volunteer), public_id=public_id)
    try:
        voicemail_call_back(voicemail=voicemail, volunteer=volunteer)
    except NoNumberToCall:
        messages.error(request, _("There is no number to call back: it was withheld."))
    except VolunteerBusy:
        messages.error(
            request, _("Your phone is already ringing or on a call: call back once it is free.")
        )
    else:
        messages.success(request, _("Your phone rings now; answer it to call the caller."))
    return redirect("desk:callbacks")


@login_required
@require_POST
@volunteer_required
def callback_handled(request: HttpRequest, volunteer: Volunteer, public_id: str) -> HttpResponse:
    voicemail = get_object_or_404(_visible(volunteer), public_id=public_id)
    if voicemail.handled_at is None:
        voicemail.handled_at = timezone.now()
        voicemail.save(update_fields=["handled_at"])
    return redirect("desk:callbacks")
