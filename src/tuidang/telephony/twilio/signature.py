"""Checking that a webhook really comes from Twilio, before anything else.

Twilio signs the URL it requested and the form parameters with the account's auth token
(HMAC). The webhook views (telephony/twiml/views.py) call ``is_signed_by_twilio`` first.
"""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator, compare, get_signature_algorithm


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
