import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuidang.lib.crypto import DecryptionError, seal, unseal

PLACE = {"table": "declarations_declaration", "row": "0b6c", "field": "alias"}


@given(st.text())
def test_what_is_sealed_opens_in_its_place(text):
    assert unseal(seal(text, **PLACE), **PLACE) == text


def test_the_same_text_seals_differently_each_time():
    assert seal("Wang Ming", **PLACE) != seal("Wang Ming", **PLACE)


def test_sealed_text_does_not_show_the_plaintext():
    assert b"Wang Ming" not in seal("Wang Ming", **PLACE)


@pytest.mark.parametrize("moved", [{"row": "other"}, {"field": "statement"}, {"table": "x"}])
def test_a_value_moved_to_another_row_or_field_does_not_open(moved):
    blob = seal("Wang Ming", **PLACE)
    with pytest.raises(DecryptionError):
        unseal(blob, **{**PLACE, **moved})


def test_a_tampered_value_does_not_open():
    blob = bytearray(seal("Wang Ming", **PLACE))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        unseal(bytes(blob), **PLACE)


def test_old_values_open_after_a_new_key_is_added(settings):
    blob = seal("Wang Ming", **PLACE)
    settings.FIELD_ENCRYPTION_KEYS = {**settings.FIELD_ENCRYPTION_KEYS, 2: b"\x01" * 32}
    assert seal("x", **PLACE)[1] == 2  # new values use the newest key
    assert unseal(blob, **PLACE) == "Wang Ming"
