"""Pages of the simulated phone network: a caller's phone and each volunteer's phone.

Every poll of a phone lets the network's clock tick, so prompts time out and callers on
hold hear the wait URL again while someone has a phone page open.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tuidang.telephony.simulator.engine import PhoneNetwork, calls_for
from tuidang.telephony.simulator.forms import KEYS, DialForm, KeyForm
from tuidang.telephony.simulator.models import SimCall
from tuidang.telephony.simulator.rest import call_resource
from tuidang.volunteers.selectors import volunteer_for


def _network(request: HttpRequest) -> PhoneNetwork:
    return PhoneNetwork(base_url=f"{request.scheme}://{request.get_host()}")


@require_http_methods(["GET", "POST"])
def caller(request: HttpRequest) -> HttpResponse:
    _network(request).tick()
    form = DialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        call = _network(request).dial(
            from_number=form.cleaned_data["from_number"], to_number=form.cleaned_data["to_number"]
        )
        return redirect("simulator:call", sid=call.sid)
    status = 400 if request.method == "POST" else 200
    # Calls back from the hotline ring here, at callers' numbers.
    ringing = SimCall.objects.filter(
        direction="outbound-dial", status=SimCall.Status.RINGING
    ).order_by("created_at")
    return render(
        request, "simulator/caller.html", {"form": form, "ringing": ringing}, status=status
    )


def _call_context(call: SimCall) -> dict[str, object]:
    return {
        "call": call,
        "keys": KEYS,
        "position": PhoneNetwork.queue_position(call),
        "waiting": (call.waiting or {}).get("kind", ""),
    }


@require_GET
def call_page(request: HttpRequest, sid: str) -> HttpResponse:
    call = get_object_or_404(SimCall, sid=sid, direction__in=["inbound", "outbound-dial"])
    return render(request, "simulator/call.html", _call_context(call))


@require_GET
def call_panel(request: HttpRequest, sid: str) -> HttpResponse:
    _network(request).tick()
    # A caller's phone only, as on call_page: a volunteer's leg is shown on their desk.
    call = get_object_or_404(SimCall, sid=sid, direction__in=["inbound", "outbound-dial"])
    return render(request, "simulator/_call_panel.html", _call_context(call))


def _back(request: HttpRequest, call: SimCall) -> HttpResponse:
    if call.direction == "outbound-dial":
        return redirect("simulator:call", sid=call.sid)
    if request.headers.get("HX-Request"):
        if call.direction == "inbound":
            return render(request, "simulator/_call_panel.html", _call_context(call))
        # The volunteer's phone, as the press left it (not the GET view: this is a POST).
        return _phone(request)
    if call.direction == "inbound":
        return redirect("simulator:call", sid=call.sid)
    return redirect("desk:desk")


def _may_use(request: HttpRequest, call: SimCall) -> None:
    """The caller's phone is open to anyone (callers have no accounts); a volunteer's
    phone only to its volunteer."""
    if call.direction == "inbound" or not call.to_number.startswith("client:"):
        return  # a caller's own phone (an inbound call, or a call back ringing at it)
    volunteer = volunteer_for(request)
    if volunteer is None or volunteer.phone_address != call.to_number:
        raise Http404


@require_POST
def press(request: HttpRequest, sid: str) -> HttpResponse:
    call = get_object_or_404(SimCall, sid=sid)
    _may_use(request, call)
    form = KeyForm(request.POST)
    if form.is_valid():
        call = _network(request).press(sid, form.cleaned_data["key"])
    return _back(request, call)


@require_POST
def hang_up(request: HttpRequest, sid: str) -> HttpResponse:
    call = get_object_or_404(SimCall, sid=sid)
    _may_use(request, call)
    call = _network(request).hang_up(sid)
    return _back(request, call)


@require_POST
def phone_answer(request: HttpRequest, sid: str) -> HttpResponse:
    call = get_object_or_404(SimCall, sid=sid)
    _may_use(request, call)
    call = _network(request).answer(sid)
    return _back(request, call)


@login_required
@require_GET
def phone(request: HttpRequest) -> HttpResponse:
    return _phone(request)


def _phone(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_for(request)
    if volunteer is None:
        raise Http404
    _network(request).tick()
    calls = list(calls_for(volunteer.phone_address))
    return render(
        request,
        "simulator/_phone.html",
        {
            "calls": [_call_context(call) for call in calls],
            "address": volunteer.phone_address,
            "keys": KEYS,
        },
    )


@require_GET
def rest_call(request: HttpRequest, account: str, sid: str) -> JsonResponse:
    """Twilio's ``Calls/<sid>.json``: where a call stands (simulator/rest.py)."""
    resource = call_resource(sid)
    if resource is None:
        # Twilio's own error body for a call it does not know.
        return JsonResponse(
            {
                "code": 20404,
                "message": f"The requested resource {request.path} was not found",
                "status": 404,
            },
            status=404,
        )
    return JsonResponse(resource)
