"""How a TwiML-speaking provider reaches the hotline: its webhook URLs and signatures.

The simulated network plays any provider that speaks TwiML: give ``PhoneNetwork`` (and
``SimulatedProvider``) the provider's dialect. Twilio's is the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from twilio.request_validator import RequestValidator

Params = dict[str, str]


@dataclass(frozen=True)
class Dialect:
    # Where the provider's webhooks are, under the hotline's base URL ("/telephony/twilio/").
    prefix: str
    # The request header carrying the signature, and how the provider computes it.
    signature_header: str
    sign: Callable[[str, Params], str]

    def url(self, base: str, path: str) -> str:
        """The webhook ``path`` (as "voice", or "offer/<token>") under ``base``."""
        return base.rstrip("/") + self.prefix + path


def twilio_signature(url: str, params: Params) -> str:
    return str(RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params))


TWILIO = Dialect(
    prefix="/telephony/twilio/", signature_header="X-Twilio-Signature", sign=twilio_signature
)
