"""Checking that a webhook really comes from Telnyx, before anything else.

Telnyx signs each webhook with the account's Ed25519 key: ``telnyx-signature-ed25519``
carries the base64 signature of ``<telnyx-timestamp>|<raw request body>``, the timestamp
in Unix seconds. It is verified against the account's public key (``TELNYX_PUBLIC_KEY``),
and a timestamp further than ``TOLERANCE_SECONDS`` from our clock is refused, so that a
request seen on its way cannot be replayed later (within the window, every webhook is
idempotent). The signature covers neither the URL nor a query string: only a POST, whose
parameters are in its body, can be signed, so any other method is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.http import HttpRequest

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
TOLERANCE_SECONDS = 5 * 60


@functools.lru_cache(maxsize=4)
def _public_key(encoded: str) -> Ed25519PublicKey | None:
    """The key TELNYX_PUBLIC_KEY holds; None when it holds none (nothing is then signed)."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded, validate=True))
    except ValueError:  # binascii.Error is one: not base64, or not 32 bytes
        return None


def signed_message(timestamp: str, body: bytes) -> bytes:
    """What Telnyx signs: the timestamp header as sent, a bar, the raw body."""
    return timestamp.encode() + b"|" + body


def is_signed_by_telnyx(request: HttpRequest) -> bool:
    if request.method != "POST":
        return False
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False  # stale, or from a clock far ahead: a replay, or not Telnyx
    key = _public_key(settings.TELNYX_PUBLIC_KEY)
    if key is None:
        return False
    try:
        key.verify(
            base64.b64decode(signature, validate=True), signed_message(timestamp, request.body)
        )
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True
