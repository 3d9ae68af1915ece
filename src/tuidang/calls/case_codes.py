"""Case codes: short numbers a caller can read out, with a check digit.

Six random digits and a Damm check digit: every single wrong digit and every swap of
two neighbouring digits is caught when a caller reads a code back on a later call.
"""

from __future__ import annotations

import secrets

from stdnum import damm


def new_case_code() -> str:
    body = f"{secrets.randbelow(900_000) + 100_000}"
    return body + damm.calc_check_digit(body)


def is_valid_case_code(code: str) -> bool:
    digits = "".join(ch for ch in code if ch.isdigit())
    return len(digits) == 7 and damm.is_valid(digits)


def format_case_code(code: str) -> str:
    """Grouped for reading aloud: 482 9173."""
    return f"{code[:3]} {code[3:]}"
