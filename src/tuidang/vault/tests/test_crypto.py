import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from tuidang.calls import recordings
from tuidang.declarations.models import Declaration
from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.testing.personas import CALLER, HotlineNumbers
from tuidang.testing.records import ALIAS, record_a_call
from tuidang.vault import keys
from tuidang.vault.fields import sealed_columns
from tuidang.vault.models import DataKey
from tuidang.vault.sealing import Sealer, seal, unseal
from tuidang.volunteers.models import Volunteer

PLACE = {"table": "declarations_declaration", "row": "0b6c", "field": "alias"}

pytestmark = pytest.mark.django_db


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_what_is_sealed_opens_in_its_place(text: str) -> None:
    assert unseal(seal(text, **PLACE), **PLACE) == text


def test_the_same_text_seals_differently_each_time() -> None:
    assert seal("Wang Ming", **PLACE) != seal("Wang Ming", **PLACE)


def test_sealed_text_does_not_show_the_plaintext() -> None:
    assert b"Wang Ming" not in seal("Wang Ming", **PLACE)


@pytest.mark.parametrize("moved", [{"row": "other"}, {"field": "statement"}, {"table": "x"}])
def test_a_value_moved_to_another_row_or_field_does_not_open(moved: dict[str, str]) -> None:
    blob = seal("Wang Ming", **PLACE)
    with pytest.raises(DecryptionError):
        unseal(blob, **{**PLACE, **moved})


def test_a_tampered_value_does_not_open() -> None:
    blob = bytearray(seal("Wang Ming", **PLACE))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        unseal(bytes(blob), **PLACE)


def test_the_data_key_is_random_and_stored_only_wrapped(settings: Settings) -> None:
    seal("Wang Ming", **PLACE)
    stored = DataKey.objects.get()
    key = keys.key_for(stored.version)
    assert len(key) == 32
    assert key not in bytes(stored.wrapped)
    assert key != hashlib.sha256(settings.FIELD_KEK.encode()).digest()


def test_a_key_made_by_another_process_is_found_at_once(settings: Settings) -> None:
    """A rotation elsewhere makes version 2; a value sealed under it opens here even while
    this process still trusts its copy of the key table."""
    settings.FIELD_KEY_CACHE_SECONDS = 3600
    Sealer()  # this process now holds the table with version 1 only
    kek = keys.configured_kek()
    fresh = os.urandom(32)
    DataKey.objects.create(
        version=2, wrapped=keys.wrap(fresh, version=2, kek=kek), kek_id=keys.kek_id(kek)
    )
    nonce = os.urandom(12)
    aad = b"tuidang:declarations_declaration:0b6c:alias"
    blob = bytes([1, 2]) + nonce + AESGCM(fresh).encrypt(nonce, b"Wang Ming", aad)
    assert unseal(blob, **PLACE) == "Wang Ming"


def test_a_key_wrapped_under_another_kek_is_named_as_such(settings: Settings) -> None:
    blob = seal("Wang Ming", **PLACE)
    keys.forget_cached_keys()
    settings.FIELD_KEK = "not-the-kek-that-wrapped-it"
    with pytest.raises(DecryptionError, match="wrapped by KEK"):
        unseal(blob, **PLACE)


def test_values_sealed_before_versioned_keys_keep_opening(settings: Settings) -> None:
    """An installation upgraded from the single FIELD_ENCRYPTION_KEY: its values carry
    version 1 and open once that key is adopted as data key 1."""
    settings.FIELD_ENCRYPTION_KEY_LEGACY = "the-old-secret"
    old_key = hashlib.sha256(b"the-old-secret").digest()
    nonce = os.urandom(12)
    aad = b"tuidang:declarations_declaration:0b6c:alias"
    blob = bytes([1, 1]) + nonce + AESGCM(old_key).encrypt(nonce, b"Wang Ming", aad)

    assert unseal(blob, **PLACE) == "Wang Ming"
    assert key_version(seal("Li Hua", **PLACE)) == 1
    assert old_key not in bytes(DataKey.objects.get(version=1).wrapped)


def test_a_new_installation_gets_a_random_key_not_one_derived_from_a_secret(
    settings: Settings,
) -> None:
    settings.FIELD_ENCRYPTION_KEY_LEGACY = ""
    seal("Wang Ming", **PLACE)
    first = keys.key_for(1)
    DataKey.objects.all().delete()
    keys.forget_cached_keys()
    seal("Wang Ming", **PLACE)
    assert keys.key_for(1) != first


def test_an_upgrade_without_the_old_secret_makes_no_random_key(
    settings: Settings, tmp_path: Path, mei: Volunteer, numbers: HotlineNumbers
) -> None:
    """Values sealed under FIELD_ENCRYPTION_KEY before versioned keys; the upgrade first
    reads the key table with that secret no longer configured."""
    settings.VAR_DIR = tmp_path
    settings.FIELD_ENCRYPTION_KEY_LEGACY = "the-old-secret"
    DataKey.objects.all().delete()  # Mei's phone was sealed under a key of the new kind
    keys.forget_cached_keys()
    mei.phone_address = "client:mei"
    mei.save(update_fields=["phone_address_sealed"])
    record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    DataKey.objects.all().delete()  # as before versioned keys
    keys.forget_cached_keys()
    settings.FIELD_ENCRYPTION_KEY_LEGACY = ""

    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEY"):
        Declaration.objects.get().alias  # noqa: B018
    with pytest.raises(keys.KeyUnavailable, match="FIELD_ENCRYPTION_KEY"):
        seal("Li Hua", **PLACE)
    assert not DataKey.objects.exists()

    settings.FIELD_ENCRYPTION_KEY_LEGACY = "the-old-secret"  # configured again
    assert Declaration.objects.get().alias == ALIAS


def test_a_first_key_another_process_made_meanwhile_is_used_not_refused(
    monkeypatch: pytest.MonkeyPatch, mei: Volunteer, numbers: HotlineNumbers
) -> None:
    """Two processes start sealing on a new installation: this one reads the key table
    empty; before it looks for sealed data, the other makes key 1 and commits what it
    sealed under it. That data is no legacy installation's: this process takes key 1."""
    for column in sealed_columns():  # a new installation: nothing sealed, no key
        column.model._default_manager.update(**{column.column: b""})
    DataKey.objects.all().delete()
    keys.forget_cached_keys()
    look = keys._sealed_data_found

    def the_other_process_sealed_meanwhile() -> str:
        monkeypatch.setattr(keys, "_sealed_data_found", look)
        keys.forget_cached_keys()
        record_a_call(volunteer=mei, caller=CALLER, sid="CA1")  # makes key 1, seals
        keys.forget_cached_keys()
        return look()

    monkeypatch.setattr(keys, "_sealed_data_found", the_other_process_sealed_meanwhile)
    monkeypatch.setattr(keys, "_load", _empty_once(keys._load))

    sealed = seal("Li Hua", **PLACE)
    assert DataKey.objects.count() == 1
    assert sealed
    assert Declaration.objects.get().alias == ALIAS


def _empty_once(load: Any) -> Any:
    """The key table as the first read saw it (empty), then as it is."""
    reads = iter([True])

    def reading() -> Any:
        view = load()
        if next(reads, False):
            return type(view)(rows={}, loaded_at=view.loaded_at)
        return view

    return reading


def test_a_recording_alone_is_enough_to_refuse_a_random_first_key(
    settings: Settings, tmp_path: Path, mei: Volunteer, numbers: HotlineNumbers
) -> None:
    settings.VAR_DIR = tmp_path
    settings.FIELD_ENCRYPTION_KEY_LEGACY = "the-old-secret"
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    for column in sealed_columns():
        column.model._default_manager.update(**{column.column: b""})
    DataKey.objects.all().delete()
    keys.forget_cached_keys()
    settings.FIELD_ENCRYPTION_KEY_LEGACY = ""

    with pytest.raises(DecryptionError, match="recordings holds sealed data"):
        recordings.load(records.voicemail)
    assert not DataKey.objects.exists()


def test_a_long_lived_sealer_moves_to_a_newer_key_within_the_cache_time(
    settings: Settings,
) -> None:
    """An import holds one sealer for minutes; a rotation elsewhere must not find it still
    sealing under the old key once FIELD_KEY_CACHE_SECONDS have passed."""
    settings.FIELD_KEY_CACHE_SECONDS = 1.0
    seal("x", **PLACE)  # makes the first key
    seal("x", **PLACE)  # this process reads the key table, and keeps it
    time.sleep(0.6)
    sealer = Sealer()  # made from that same reading, still fresh enough
    kek = keys.configured_kek()
    DataKey.objects.create(
        version=2, wrapped=keys.wrap(os.urandom(32), version=2, kek=kek), kek_id=keys.kek_id(kek)
    )
    time.sleep(0.6)  # the reading is now older than allowed, the sealer is not
    blob = sealer.seal(b"Wang Ming", **PLACE)
    assert key_version(blob) == 2
    assert unseal(blob, **PLACE) == "Wang Ming"
