"""Checking that a webhook really comes from the provider, before anything else."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from twilio.request_validator import RequestValidator, compare, get_signature_algorithm

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def signed_url(request: HttpRequest) -> str:
    """The URL the provider requested, which is what it signed.

    Behind a proxy the app sees another host or scheme; PUBLIC_BASE_URL names the real one.
    """
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def is_signed_by_twilio(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(
        request.headers.get("X-Twilio-Webhooks-Signature-Settings", "")
    )
    params = request.POST if request.method == "POST" else {}
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = signed_url(request)
    # The library's validate() computes the signature twice, for the URL with its port and
    # without, and accepts either. The URL as requested, parsed and put back together as
    # validate() does, is always one of the two, and the one the provider signed in nearly
    # every request: it goes first, compared by the library's own comparison, and only a
    # mismatch pays for the full check. The same requests pass, for half the hashing.
    try:
        expected = validator.compute_signature(urlparse(url).geturl(), params, algorithm)
    except ValueError:  # an algorithm the library does not know; validate() logs it
        expected = ""
    if expected and compare(expected, signature):
        return True
    return bool(validator.validate(url, params, signature, algorithm=algorithm))


def twilio_signature_required(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_signed_by_twilio(request):
            logger.warning("Rejected a webhook with a missing or wrong signature: %s", request.path)
            return HttpResponseForbidden("Invalid signature\n", content_type="text/plain")
        return view(request, *args, **kwargs)

    return wrapper
