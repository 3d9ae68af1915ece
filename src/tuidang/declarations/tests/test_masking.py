"""Masking before a coordinator reads a statement: phone numbers, ID-card numbers and
street addresses never reach the draft, whatever text surrounds them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuidang.declarations.masking import (
    ADDRESS_MASK,
    ID_MASK,
    PHONE_MASK,
    is_id_card_number,
    statement_mask,
)

# Words around the numbers: Chinese and Latin letters and punctuation, never digits.
prose = st.text(
    alphabet=st.sampled_from("我退出共青团少先队党了，。！ 的人在家 abcXYZ.,!?\n"), max_size=40
)


@st.composite
def id_card_numbers(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("123456"))
    body = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    digits = first + body
    check = "10X98765432"[sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11]
    return digits + check


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    second = draw(st.sampled_from("3456789"))
    rest = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    number = f"1{second}{rest}"
    style = draw(st.sampled_from(["plain", "spaced", "international", "dashed"]))
    if style == "spaced":
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == "dashed":
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == "international":
        return f"+86 {number}"
    return number


def digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@given(before=prose, number=mobile_numbers(), after=prose)
def test_a_phone_number_is_masked_wherever_it_stands(before: str, number: str, after: str) -> None:
    masked = statement_mask(f"{before}{number}{after}")
    assert digits_of(number)[-8:] not in digits_of(masked)
    assert PHONE_MASK in masked


@given(before=prose, number=id_card_numbers(), after=prose)
def test_an_id_card_number_is_masked_wherever_it_stands(
    before: str, number: str, after: str
) -> None:
    assert is_id_card_number(number)
    masked = statement_mask(f"{before}{number}{after}")
    assert number[:17] not in masked
    assert ID_MASK in masked


@given(number=id_card_numbers())
def test_a_wrong_check_digit_is_not_an_id_card(number: str) -> None:
    wrong = "0" if number[-1] != "0" else "1"
    assert not is_id_card_number(number[:17] + wrong)


@given(text=prose)
def test_text_without_numbers_or_addresses_is_left_as_it_is(text: str) -> None:
    assert statement_mask(text) == text


@given(before=prose, number=mobile_numbers(), card=id_card_numbers(), after=prose)
def test_masking_twice_changes_nothing_more(
    before: str, number: str, card: str, after: str
) -> None:
    once = statement_mask(f"{before}{number} {card}{after}")
    assert statement_mask(once) == once


def test_addresses_are_masked() -> None:
    masked = statement_mask("我住在朝阳区幸福路12号3栋402室，I live at 12 Main Street.")
    assert "幸福路" not in masked and "12号" not in masked
    assert "Main Street" not in masked
    assert masked.count(ADDRESS_MASK) == 2
