"""The sealing primitives, under a key the caller gives: no database, no key table."""

import os

import pytest

from tuidang.lib.crypto import Cipher, DecryptionError, key_version, open_sealed

PLACE = {"table": "declarations_declaration", "row": "0b6c", "field": "alias"}


def test_a_value_opens_under_its_key_in_its_place_only() -> None:
    key = os.urandom(32)
    blob = Cipher(7, key).seal(b"Wang Ming", **PLACE)
    assert key_version(blob) == 7 and b"Wang Ming" not in blob
    assert open_sealed(blob, key=key, **PLACE) == b"Wang Ming"
    for moved in ({"row": "0b6d"}, {"field": "statement"}, {"table": "calls_callnote"}):
        with pytest.raises(DecryptionError):
            open_sealed(blob, key=key, **{**PLACE, **moved})
    with pytest.raises(DecryptionError):
        open_sealed(blob, key=os.urandom(32), **PLACE)


def test_what_is_not_a_sealed_value_has_no_key_version() -> None:
    assert key_version(b"") is None
    assert key_version(b"\x02" + bytes(40)) is None
