"""Case codes: short numbers a caller can read out, with a check digit.

Eight random digits and a Damm check digit: every single wrong digit and every swap of
two neighbouring digits is caught when a caller reads a code back on a later call.

Codes are unique among the calls the hotline keeps (a year by default, see retention),
so the space must stay far larger than that: a busy year, or one night of hired
callers at a hundred calls a second, is hundreds of thousands of calls. With 90 million
codes a new code rarely meets one in use, and a guessed code rarely opens anyone's case.
Calls taken before codes grew to nine digits keep their seven-digit codes, which still
open their cases.
"""

from __future__ import annotations

import secrets

from stdnum import damm

CODE_DIGITS = 9
OLDER_CODE_DIGITS = 7


def new_case_code() -> str:
    body = f"{secrets.randbelow(90_000_000) + 10_000_000}"
    return body + damm.calc_check_digit(body)


def case_code_digits(code: str) -> str:
    """The digits of a code as typed or read back, spaces and dashes dropped."""
    return "".join(ch for ch in code if ch.isdigit())


def is_valid_case_code(code: str) -> bool:
    digits = case_code_digits(code)
    return len(digits) in (CODE_DIGITS, OLDER_CODE_DIGITS) and damm.is_valid(digits)


def format_case_code(code: str) -> str:
    """Grouped for reading aloud: 482 917 305 (older codes: 482 9173)."""
    if len(code) == CODE_DIGITS:
        return f"{code[:3]} {code[3:6]} {code[6:]}"
    return f"{code[:3]} {code[3:]}"
