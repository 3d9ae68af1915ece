"""How a TwiML-speaking provider reaches the hotline: its webhook URLs and signatures.

The simulated network plays any provider that speaks TwiML: give ``PhoneNetwork`` (and
``SimulatedProvider``) the provider's dialect. Twilio's is the default; Telnyx's TeXML
(``TELNYX``) differs from it only in how requests are signed.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.request_validator import RequestValidator

Params = dict[str, str]


@dataclass(frozen=True)
class Webhook:
    """A request to the hotline's webhooks, as the provider is about to send it."""

    url: str
    params: Params
    # The parameters form-encoded: the body sent, byte for byte.
    body: bytes


@dataclass(frozen=True)
class Dialect:
    # Where the provider's webhooks are, under the hotline's base URL ("/telephony/twilio/").
    prefix: str
    # The headers that sign a request, as the provider computes them.
    sign: Callable[[Webhook], dict[str, str]]

    def url(self, base: str, path: str) -> str:
        """The webhook ``path`` (as "voice", or "offer/<token>") under ``base``."""
        return base.rstrip("/") + self.prefix + path


def twilio_signature(webhook: Webhook) -> dict[str, str]:
    """Twilio's: an HMAC of the URL and the parameters under the account's auth token."""
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return {"X-Twilio-Signature": str(validator.compute_signature(webhook.url, webhook.params))}


@functools.lru_cache(maxsize=4)
def _ed25519_key(seed: str) -> Ed25519PrivateKey:
    if not seed:
        raise ImproperlyConfigured(
            "SIMULATOR_TELNYX_SIGNING_KEY is empty: the simulated network cannot sign as Telnyx"
        )
    raw = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
    return Ed25519PrivateKey.from_private_bytes(raw)


def telnyx_signature(webhook: Webhook) -> dict[str, str]:
    """Telnyx's: Ed25519 over ``<timestamp>|<body>``, with the network's own key pair.

    The key is the demo's and the tests' (``SIMULATOR_TELNYX_SIGNING_KEY``, generated
    into var/secrets/), never an account's. The timestamp is the real time, as Telnyx's
    clock gives it, not the network's simulated clock: the hotline compares it with its own.
    """
    timestamp = str(int(time.time()))
    key = _ed25519_key(settings.SIMULATOR_TELNYX_SIGNING_KEY)
    signature = key.sign(timestamp.encode() + b"|" + webhook.body)
    return {
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": timestamp,
    }


TWILIO = Dialect(prefix="/telephony/twilio/", sign=twilio_signature)
TELNYX = Dialect(prefix="/telephony/telnyx/", sign=telnyx_signature)
DIALECTS = {"twilio": TWILIO, "telnyx": TELNYX}


def configured_dialect() -> Dialect:
    """The dialect the simulated network speaks unless told otherwise (SIMULATOR_DIALECT)."""
    return DIALECTS[settings.SIMULATOR_DIALECT]
