from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from bench.benchapp.models import Ping
from tuidang.calls.models import HotlineNumber


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """The baseline: one SELECT and one INSERT, no signature, no logic."""
    number = HotlineNumber.objects.filter(e164=request.POST.get("To", "")).first()
    Ping.objects.create(token=request.POST.get("CallSid", ""))
    return HttpResponse(
        "<Response/>" if number else "<Response><Hangup/></Response>", content_type="text/xml"
    )


def bare_page(request: HttpRequest) -> HttpResponse:
    """The floor for a page served from the cache: Django's middleware and a constant body,
    no template, no cache, no database."""
    return HttpResponse(b"<!doctype html><p>ok</p>", content_type="text/html; charset=utf-8")
