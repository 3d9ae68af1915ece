"""What the hotline may derive from a caller's number, and nothing more.

The number itself is never stored, logged or cached. At call time it becomes:

- a *caller key*: HMAC-SHA256 of the E.164 form under a pepper kept outside the database,
  so repeat calls can be recognised without the number being recoverable from a dump;
- a coarse *region*: the province (or country, outside mainland China), as a code of the
  closed list in ``lib/regions.py``;
- at most the last few digits, for a volunteer's eyes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumbers import geocoder

from tuidang.lib.regions import CODES, MAINLAND, MAINLAND_UNKNOWN, UNKNOWN

# Numbers providers send when the caller withholds theirs ("anonymous", "+266696687",
# "restricted", ...). They all share one caller key per dialled number.
_WITHHELD = {"", "anonymous", "restricted", "unknown", "private", "unavailable", "+266696687"}

# The geocoder's English name of each province, to its code.
MAINLAND_BY_NAME = {english: code for code, (english, _chinese) in MAINLAND.items()}


@dataclass(frozen=True)
class CallerIdentity:
    key: str
    region: str
    last_digits: str
    withheld: bool


def _parse(raw: str, default_region: str | None = None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def normalise(raw: str, *, default_region: str | None = None) -> str | None:
    """The E.164 form of ``raw``, or None when it is not a plausible phone number."""
    number = _parse(raw, default_region)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    """For numbers the hotline owns: they must be written exactly in E.164."""
    if normalise(value) != value:
        raise ValidationError(
            _("Enter the number in international E.164 form, for example +18005550100."),
            code="invalid_e164",
        )


def caller_key(e164_or_marker: str) -> str:
    digest = hmac.new(
        settings.CALLER_KEY_PEPPER.encode(), e164_or_marker.encode(), hashlib.sha256
    ).hexdigest()
    return digest


def region_of(e164: str) -> str:
    """The region's code (lib/regions.py): the province for a mainland Chinese number,
    else the country or territory."""
    return _region(phonenumbers.parse(e164))


def _region(number: phonenumbers.PhoneNumber) -> str:
    """Always a code of the closed list (or unknown), never the geocoder's words."""
    country = phonenumbers.region_code_for_number(number) or ""
    if country != "CN":
        return country if country in CODES else UNKNOWN
    description = geocoder.description_for_number(number, "en")
    # "Changzhou, Jiangsu" -> "Jiangsu": the city is finer than we keep.
    province = MAINLAND_BY_NAME.get(description.rsplit(",", 1)[-1].strip())
    return province or MAINLAND_UNKNOWN


def identify_caller(raw_from: str, *, dialled: str) -> CallerIdentity:
    """Turn the provider's ``From`` into what we keep. ``raw_from`` is then forgotten."""
    # Parsed once: the key, the region and the last digits all come from this parse.
    number = None if raw_from.strip().lower() in _WITHHELD else _parse(raw_from)
    if number is None:
        return CallerIdentity(
            key=caller_key(f"withheld:{dialled}"), region="", last_digits="", withheld=True
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    visible = settings.CALLER_VISIBLE_DIGITS
    return CallerIdentity(
        key=caller_key(e164),
        region=_region(number),
        last_digits=e164[-visible:] if visible > 0 else "",
        withheld=False,
    )
