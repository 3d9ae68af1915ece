from hypothesis import given
from hypothesis import strategies as st
from stdnum import damm

from tuidang.calls.case_codes import format_case_code, is_valid_case_code, new_case_code

codes = st.integers(100_000, 999_999).map(lambda body: f"{body}{damm.calc_check_digit(str(body))}")


def test_new_codes_are_seven_digits_and_valid():
    for _ in range(200):
        code = new_case_code()
        assert len(code) == 7 and code.isdigit()
        assert is_valid_case_code(code)


@given(codes, st.integers(0, 6), st.integers(1, 9))
def test_any_single_wrong_digit_is_caught(code, position, delta):
    wrong = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    assert not is_valid_case_code(wrong)


@given(codes, st.integers(0, 5))
def test_swapping_two_neighbouring_digits_is_caught(code, position):
    a, b = code[position], code[position + 1]
    if a != b:
        swapped = code[:position] + b + a + code[position + 2 :]
        assert not is_valid_case_code(swapped)


def test_a_code_read_back_with_spaces_is_understood():
    code = new_case_code()
    assert is_valid_case_code(format_case_code(code))
