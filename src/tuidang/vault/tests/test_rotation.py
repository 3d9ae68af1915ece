"""`tuidang rotate-keys`: everything re-sealed under a new key, the old key gone."""

import os
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, models
from pytest_django.fixtures import Settings

from tuidang.calls import recordings
from tuidang.calls.models import CallNote
from tuidang.declarations.models import Declaration
from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.testing.personas import CALLER, HotlineNumbers
from tuidang.testing.records import ADDRESS, ALIAS, AUDIO, NOTE, STATEMENT, record_a_call
from tuidang.vault import keys, rotation
from tuidang.vault.fields import sealed_columns
from tuidang.vault.models import DataKey
from tuidang.vault.rotation import (
    data_key_begin_rotation,
    data_key_rotate,
    sealed_versions,
)
from tuidang.vault.sealing import seal, unseal, unseal_bytes
from tuidang.vault.stores import sealed_stores
from tuidang.volunteers.models import Volunteer


@pytest.fixture(autouse=True)
def _own_recordings(settings: Settings, tmp_path: Path) -> None:
    """Recordings of this test only, not of every test run on the machine."""
    settings.VAR_DIR = tmp_path
    settings.FIELD_KEY_CACHE_SECONDS = 0


def every_stored_version() -> set[int]:
    return {v for counts in sealed_versions().values() for v in counts}


def test_every_sealed_column_is_rotated() -> None:
    sealed = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.BinaryField) and field.name.endswith("_sealed")
    }
    assert sealed == {(column.model._meta.label, column.column) for column in sealed_columns()}
    # ... and the walk over the stores, which rotation, its last check and --status make,
    # finds each of them, besides the stores the apps register.
    labels = [store.label for store in sealed_stores()]
    assert set(labels) == {f"{model}.{column}" for model, column in sealed} | {
        "recordings",
        "mfa.Authenticator.data",
    }
    assert len(labels) == len(set(labels))


def test_each_sealed_value_is_bound_to_the_place_it_always_was() -> None:
    """The associated data of values sealed before the Sealed attributes: they still open."""
    places = {column.label: (column.name, column.place) for column in sealed_columns()}
    assert places == {
        "declarations.Declaration.alias_sealed": ("alias", "alias"),
        "declarations.Declaration.statement_sealed": ("statement", "statement"),
        "calls.CallNote.text_sealed": ("text", "text"),
        "calls.Voicemail.callback_number_sealed": ("callback_number", "number"),
        "literature.BookRequest.address_sealed": ("address", "address"),
        "volunteers.Volunteer.phone_address_sealed": ("phone_address", "phone_address"),
    }


@pytest.mark.django_db
def test_a_value_sealed_in_its_place_opens_through_its_attribute(
    mei: Volunteer, numbers: HotlineNumbers
) -> None:
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    voicemail = records.voicemail
    place = {"table": "calls_voicemail", "row": str(voicemail.public_id), "field": "number"}
    voicemail.callback_number_sealed = seal("+8613800000000", **place)
    assert voicemail.callback_number == "+8613800000000"
    assert Declaration(**{"alias": ALIAS}).alias == ALIAS  # Django takes it as a property
    note = records.note
    note.text = ""  # a note's empty text is sealed too, as it always was
    assert key_version(bytes(note.text_sealed)) is not None
    assert (
        unseal(
            bytes(note.text_sealed), table="calls_callnote", row=str(note.public_id), field="text"
        )
        == ""
    )


@pytest.mark.django_db
def test_after_rotation_the_old_key_opens_nothing_and_every_value_still_reads(
    mei: Volunteer, numbers: HotlineNumbers
) -> None:
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    old_version = key_version(bytes(records.declaration.alias_sealed))
    assert old_version is not None
    old_key = keys.key_for(old_version)
    old_alias = bytes(records.declaration.alias_sealed)
    place = {"table": "declarations_declaration", "row": str(records.declaration.public_id)}

    call_command("rotate_keys", pause=0, batch_size=1, stdout=StringIO())

    [new_key] = DataKey.objects.all()
    assert new_key.version != old_version
    assert every_stored_version() == {new_key.version}
    status = StringIO()
    call_command("rotate_keys", status=True, stdout=status)
    assert f"declarations.Declaration.alias_sealed: v{new_key.version}: 1\n" in status.getvalue()
    assert f"recordings: v{new_key.version}: 1\n" in status.getvalue()
    assert sum(sealed_versions()["recordings"].values()) == 1
    # The copy of an old value no longer opens: its key is gone from the database ...
    with pytest.raises(DecryptionError, match=f"no data key of version {old_version}"):
        unseal(old_alias, **place, field="alias")
    # ... and it was that key (kept here) that opened it.
    aad = f"tuidang:declarations_declaration:{place['row']}:alias".encode()
    assert AESGCM(old_key).decrypt(old_alias[2:14], old_alias[14:], aad) == ALIAS.encode()
    declaration = Declaration.objects.get()
    stored = bytes(declaration.alias_sealed)
    with pytest.raises(InvalidTag):  # the old key opens none of what is stored now
        AESGCM(old_key).decrypt(stored[2:14], stored[14:], aad)
    assert (declaration.alias, declaration.statement) == (ALIAS, STATEMENT)
    assert CallNote.objects.get().text == NOTE
    records.book_request.refresh_from_db()
    assert records.book_request.address == ADDRESS
    records.voicemail.refresh_from_db()
    assert records.voicemail.callback_number == CALLER
    assert recordings.load(records.voicemail) == AUDIO


@pytest.mark.django_db
def test_an_interrupted_rotation_resumes_with_the_same_new_key(
    mei: Volunteer, numbers: HotlineNumbers
) -> None:
    record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    started, resumed = data_key_begin_rotation()  # killed right after making the key
    assert not resumed

    report = data_key_rotate(pause=0)

    assert report.resumed and report.version == started.version
    assert list(DataKey.objects.values_list("version", flat=True)) == [started.version]
    assert every_stored_version() == {started.version}
    # Run again with nothing under way: a new rotation, to a new key.
    assert data_key_rotate(pause=0).version != started.version


@pytest.mark.django_db
def test_a_value_that_no_key_opens_is_reported_and_left(
    mei: Volunteer, numbers: HotlineNumbers
) -> None:
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    bad = bytearray(records.note.text_sealed)
    bad[-1] ^= 1
    CallNote.objects.filter(pk=records.note.pk).update(text_sealed=bytes(bad))

    report = data_key_rotate(pause=0)

    assert any("calls.CallNote.text_sealed" in problem for problem in report.unreadable)
    assert Declaration.objects.get().alias == ALIAS


@pytest.mark.django_db
def test_rewrapping_under_a_new_kek_keeps_every_value_and_needs_the_new_kek(
    mei: Volunteer, numbers: HotlineNumbers, settings: Settings, tmp_path: Path
) -> None:
    record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    kek_file = tmp_path / "new.kek"
    kek_file.write_text("a brand new key-encryption key\n")

    call_command("rotate_keys", new_kek_file=kek_file, stdout=StringIO())

    new_kek = keys.kek_from_secret(kek_file.read_text())
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {keys.kek_id(new_kek)}
    keys.forget_cached_keys()  # a process started with the old KEK is told so
    with pytest.raises(DecryptionError, match="wrapped by KEK"):
        Declaration.objects.get().alias  # noqa: B018
    settings.FIELD_KEK = kek_file.read_text()
    assert Declaration.objects.get().alias == ALIAS
    with pytest.raises(CommandError, match="already configured"):
        call_command("rotate_keys", new_kek_file=kek_file)


@pytest.mark.django_db(transaction=True)
def test_edits_made_during_a_rotation_are_never_lost(
    mei: Volunteer, numbers: HotlineNumbers, settings: Settings
) -> None:
    """Volunteers keep writing notes and a coordinator keeps correcting a statement while
    the rotation runs; other processes' copies of the key table are half a second old."""
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    for i in range(30):
        note = CallNote(call=records.call, author=mei)
        note.text = f"earlier note {i}"
        note.save()
    settings.FIELD_KEY_CACHE_SECONDS = 0.5
    stop = threading.Event()
    written: dict[str, list[str]] = {"notes": [], "statements": []}
    # Writers keep at it through the rotation's first passes and the half second other
    # processes may still seal under the old key, then stop: writing a note every few
    # milliseconds for ever, they could outrun passes made three values at a time (on a
    # slow database a pass never caught up), which no desk does.
    until = time.monotonic() + 3

    def writing() -> bool:
        return not stop.is_set() and time.monotonic() < until

    def write_notes() -> None:
        try:
            while writing():
                note = CallNote(call=records.call, author=mei)
                note.text = f"note {len(written['notes'])}"
                note.save()
                written["notes"].append(note.text)
                time.sleep(0.005)
        finally:
            close_old_connections()
            connection.close()

    def correct_statement() -> None:
        try:
            while writing():
                declaration = Declaration.objects.get()
                declaration.statement = f"statement {len(written['statements'])}"
                declaration.save(update_fields=["statement_sealed"])
                written["statements"].append(declaration.statement)
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=write_notes), threading.Thread(target=correct_statement)]
    for thread in threads:
        thread.start()
    try:
        report = data_key_rotate(batch_size=3, pause=0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert written["notes"] and written["statements"]
    assert len(report.destroyed) == 1
    keys.forget_cached_keys()
    # Whatever was written last is what is stored, and all of it opens under the new key.
    assert Declaration.objects.get().statement == written["statements"][-1]
    texts = [note.text for note in CallNote.objects.all()]
    assert set(written["notes"]) <= set(texts)
    assert len(texts) == 1 + 30 + len(written["notes"])
    stored_versions = {
        key_version(bytes(blob)) for blob in CallNote.objects.values_list("text_sealed", flat=True)
    }
    assert stored_versions == {report.version}


@pytest.mark.django_db
def test_an_edit_between_reading_and_resealing_a_value_wins(
    mei: Volunteer, numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A coordinator corrects the statement after the rotation read it and before it wrote
    it back: the compare-and-swap sees the change, and the next pass re-seals the new text."""
    record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    edited: list[bool] = []

    def unseal_then_edit(blob: bytes, *, table: str, row: str, field: str) -> bytes:
        plaintext = unseal_bytes(blob, table=table, row=row, field=field)
        if field == "statement" and not edited:
            declaration = Declaration.objects.get()
            declaration.statement = "corrected while rotating"
            declaration.save(update_fields=["statement_sealed"])
            edited.append(True)
        return plaintext

    monkeypatch.setattr("tuidang.vault.stores.unseal_bytes", unseal_then_edit)
    report = data_key_rotate(pause=0)

    assert report.conflicts == 1 and report.passes >= 2
    declaration = Declaration.objects.get()
    assert declaration.statement == "corrected while rotating"
    assert key_version(bytes(declaration.statement_sealed)) == report.version


@pytest.mark.django_db
def test_a_value_sealed_under_the_old_key_that_commits_late_keeps_the_key_until_resealed(
    mei: Volunteer, numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import sealed its batch before the rotation began and waited for the write lock;
    it commits after the rotation's last pass, just before the old key would go."""
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    old_version = key_version(bytes(records.note.text_sealed))
    assert old_version is not None
    old_key = keys.key_for(old_version)
    destroy = rotation.data_keys_destroy_except
    late: list[CallNote] = []

    def commit_late_then_destroy(*, keep: DataKey) -> list[int] | None:
        if not late:
            note = CallNote(call=records.call, author=mei)
            nonce = os.urandom(12)
            aad = f"tuidang:calls_callnote:{note.public_id}:text".encode()
            note.text_sealed = (
                bytes([1, old_version])
                + nonce
                + AESGCM(old_key).encrypt(nonce, b"sealed before the rotation", aad)
            )
            note.save()
            late.append(note)
        return destroy(keep=keep)

    monkeypatch.setattr(rotation, "data_keys_destroy_except", commit_late_then_destroy)
    report = data_key_rotate(pause=0)

    assert report.late == 1
    assert report.destroyed == [old_version]
    keys.forget_cached_keys()
    note = CallNote.objects.get(pk=late[0].pk)
    assert note.text == "sealed before the rotation"
    assert key_version(bytes(note.text_sealed)) == report.version
    assert every_stored_version() == {report.version}
