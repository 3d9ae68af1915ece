from hypothesis import given
from hypothesis import strategies as st
from stdnum import damm

from tuidang.calls.case_codes import format_case_code, is_valid_case_code, new_case_code


def _with_check_digit(body: int) -> str:
    return f"{body}{damm.calc_check_digit(str(body))}"


# New codes, and the seven-digit codes of calls taken before codes grew.
codes = st.integers(10_000_000, 99_999_999).map(_with_check_digit) | st.integers(
    100_000, 999_999
).map(_with_check_digit)


def test_new_codes_are_nine_digits_and_valid() -> None:
    for _ in range(200):
        code = new_case_code()
        assert len(code) == 9 and code.isdigit()
        assert is_valid_case_code(code)


def test_new_codes_rarely_repeat_among_a_years_calls() -> None:
    # A year of a busy line: a code drawn now meets one already in use well under 1% of
    # the time, so storing a call almost never needs a second try.
    drawn = {new_case_code() for _ in range(200_000)}
    assert len(drawn) > 199_000


@given(codes, st.data())
def test_any_single_wrong_digit_is_caught(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    delta = data.draw(st.integers(1, 9))
    wrong = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    assert not is_valid_case_code(wrong)


@given(codes, st.data())
def test_swapping_two_neighbouring_digits_is_caught(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 2))
    a, b = code[position], code[position + 1]
    if a != b:
        swapped = code[:position] + b + a + code[position + 2 :]
        assert not is_valid_case_code(swapped)


@given(codes)
def test_a_code_read_back_with_spaces_is_understood(code: str) -> None:
    assert is_valid_case_code(format_case_code(code))
    assert format_case_code(code).replace(" ", "") == code


def test_codes_are_grouped_for_reading_aloud() -> None:
    assert format_case_code("482917305") == "482 917 305"
    assert format_case_code("4829173") == "482 9173"


def test_a_dropped_or_extra_digit_is_caught() -> None:
    code = new_case_code()
    assert not is_valid_case_code(code[:-1])
    assert not is_valid_case_code(code + "0")
