"""What is masked in a statement before a coordinator reads it for publication: phone
numbers (phonenumbers' matcher, as a Chinese number and in international form), Chinese
resident ID-card numbers (18 characters whose last is the ISO 7064 checksum) and street
addresses (a road, lane or village followed by a house number, in Chinese or English).

The mask is a fixed text in place of each, so the coordinator sees that something was
there. It is a first pass: the coordinator edits out what it missed (a name, a work unit).
"""

from __future__ import annotations

import re

import phonenumbers

PHONE_MASK = "[☎ ***]"
ID_MASK = "[ID ***]"
ADDRESS_MASK = "[📍 ***]"

# ISO 7064 MOD 11-2 weights of the first 17 digits, and the check character by remainder.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
# Full-width digits are folded before matching; the masks keep the text's other characters.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")

_CJK = r"[\u4e00-\u9fff]"
_ADDRESS = re.compile(
    # 长安街12号, 幸福路3弄5号402室, 和平村8组: a place name, a street word, a number.
    rf"{_CJK}{{1,12}}(?:路|街|大道|巷|弄|胡同|里|村|小区|社区|大街)"
    r"\s*[0-9一二三四五六七八九十百]+\s*(?:号|弄|组|栋|幢|排)"
    r"(?:\s*[0-9一二三四五六七八九十]+\s*(?:号楼|号|栋|幢|单元|楼|层|室|户))*"
    # 12 Main Street, 5 Baker St.
    r"|\b[0-9]{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd)\b\.?"
)


def is_id_card_number(candidate: str) -> bool:
    """Whether 18 characters are a Chinese resident ID-card number: the checksum holds."""
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(candidate, _ID_WEIGHTS, strict=False))
    return candidate[17].upper() == _ID_CHECK[total % 11]


def statement_mask(text: str) -> str:
    """``text`` with phone numbers, ID-card numbers and street addresses masked."""
    text = text.translate(_FULL_WIDTH)
    text = _ID.sub(lambda m: ID_MASK if is_id_card_number(m.group()) else m.group(), text)
    text = _mask_phones(text)
    return _ADDRESS.sub(ADDRESS_MASK, text)


def _mask_phones(text: str) -> str:
    for region in ("CN", "HK", "TW", "US"):
        spans = [
            (match.start, match.end)
            for match in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.POSSIBLE
            )
        ]
        for start, end in reversed(spans):
            text = text[:start] + PHONE_MASK + text[end:]
    # What the matcher leaves as too long or oddly split: any run of 7 or more digits,
    # spaces and dashes that is not a mask already.
    return _DIGITS.sub(PHONE_MASK, text)


_DIGITS = re.compile(r"\+?(?:[0-9][ \-.]?){6,}[0-9]")
