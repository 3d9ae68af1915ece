"""Key rotation while the hotline runs (`tuidang rotate-keys`).

A data-key rotation makes a new key, re-seals every sealed column and every sealed
recording under it in small batches, and then deletes the older keys: from then on they
open nothing, not even a copy of an old value kept elsewhere. Each value is swapped by
compare-and-swap (the UPDATE matches the exact ciphertext that was read), so an edit made
meanwhile is never overwritten; the next pass finds it, if it needs re-sealing at all.
Killed at any point, the command resumes: while more than one key exists a rotation is
under way, and it carries on with the newest.

A KEK rotation re-wraps every data key under a new key-encryption key, in one
transaction; the sealed values themselves do not change.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from tuidang.lib import keys
from tuidang.lib.crypto import DecryptionError, Sealer, key_version, unseal_bytes
from tuidang.lib.models import DataKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values; each is bound to its row's ``public_id`` and a field name."""

    model: str  # app_label.Model
    column: str
    place: str  # the field name in the associated data

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def label(self) -> str:
        return f"{self.model}.{self.column}"


# Every sealed column. lib/tests/test_rotation.py fails if a model gains one not listed here.
SEALED_COLUMNS = (
    SealedColumn("declarations.Declaration", "alias_sealed", "alias"),
    SealedColumn("declarations.Declaration", "statement_sealed", "statement"),
    SealedColumn("calls.CallNote", "text_sealed", "text"),
    SealedColumn("calls.Voicemail", "callback_number_sealed", "number"),
    SealedColumn("literature.BookRequest", "address_sealed", "address"),
)
RECORDINGS = "recordings"
# Second-factor secrets, sealed inside allauth's Authenticator.data (accounts/adapter.py).
AUTHENTICATORS = "mfa.Authenticator.data"
AUTHENTICATOR_SECRETS = ("secret", "seed")


class RotationError(Exception):
    pass


@dataclass
class RotationReport:
    version: int
    resumed: bool
    resealed: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0  # values edited meanwhile, looked at again on the next pass
    unreadable: set[str] = field(default_factory=set)  # values no key opens
    destroyed: list[int] = field(default_factory=list)
    passes: int = 0
    late: int = 0  # times a value under an old key committed after a pass; passes again


Progress = Callable[[str, int], None]


def _next_version(existing: set[int], newest: int) -> int:
    """The version after ``newest``, wrapping past 255 to the first free one."""
    for step in range(1, keys.MAX_VERSION + 1):
        version = (newest + step - 1) % keys.MAX_VERSION + 1
        if version not in existing:
            return version
    raise RotationError("every key version is in use")


@transaction.atomic
def data_key_begin_rotation() -> tuple[DataKey, bool]:
    """The key to rotate to: the newest one if a rotation is under way (resume), else a
    new random key. Returns it and whether this resumes an earlier run."""
    keys.current_key()  # an installation that never sealed anything gets its first key
    rows = list(DataKey.objects.select_for_update().order_by("pk"))
    if len(rows) > 1:
        return rows[-1], True
    kek = keys.configured_kek()
    version = _next_version({row.version for row in rows}, rows[-1].version)
    created = DataKey.objects.create(
        version=version,
        wrapped=keys.wrap(os.urandom(keys.KEY_BYTES), version=version, kek=kek),
        kek_id=keys.kek_id(kek),
    )
    logger.info("Made data key v%s; re-sealing everything under it", version)
    return created, False


def _reseal_column(
    column: SealedColumn, sealer: Sealer, report: RotationReport, *, batch_size: int, pause: float
) -> int:
    model = column.model_class()
    table = model._meta.db_table
    quote = connection.ops.quote_name
    field = model._meta.get_field(column.column)
    assert isinstance(field, models.Field)
    assert model._meta.pk is not None
    value_column = quote(field.column)
    update = (  # Names from the model's metadata, quoted; values are parameters.
        f"UPDATE {quote(table)} SET {value_column} = %s "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %s AND {value_column} = %s"
    )
    changed, last = 0, 0
    while True:
        rows = list(
            model._default_manager.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "public_id", column.column)[:batch_size]
        )
        if not rows:
            return changed
        last = rows[-1][0]
        swaps: list[tuple[int, bytes, bytes]] = []
        for pk, public_id, value in rows:
            blob = bytes(value or b"")
            if not blob or key_version(blob) == sealer.version:
                continue
            place = {"table": table, "row": str(public_id), "field": column.place}
            try:
                plaintext = unseal_bytes(blob, **place)
            except DecryptionError as exc:
                report.unreadable.add(f"{column.label} row {pk}: {exc}")
                continue
            swaps.append((pk, blob, sealer.seal(plaintext, **place)))
        # One short transaction per batch; each row by compare-and-swap: only if the value
        # is still the one read above, so an edit made meanwhile is never overwritten.
        if swaps:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(update, [(sealed, pk, blob) for pk, blob, sealed in swaps])
                swapped = cursor.rowcount
            changed += swapped
            report.conflicts += len(swaps) - swapped
        if pause:
            time.sleep(pause)


def _reseal_recordings(sealer: Sealer, report: RotationReport, *, pause: float) -> int:
    from tuidang.calls import recordings
    from tuidang.calls.models import Voicemail

    changed = 0
    for path in recordings.stored_files():
        public_id = path.name.removesuffix(recordings.SUFFIX)
        # The row's lock keeps retention from deleting the file while it is rewritten.
        with transaction.atomic():
            list(Voicemail.objects.select_for_update().filter(public_id=public_id))
            try:
                changed += recordings.reseal(path, sealer)
            except DecryptionError as exc:
                report.unreadable.add(f"recording {path.name}: {exc}")
        if pause:
            time.sleep(pause)
    return changed


def _reseal_authenticators(sealer: Sealer, report: RotationReport) -> int:
    """Re-seal TOTP secrets and recovery-code seeds (and seal any stored in clear)."""
    from allauth.mfa.models import Authenticator

    from tuidang.accounts.adapter import seal_secret, sealed_secret_version, unseal_secret

    changed = 0
    for pk, data in Authenticator.objects.order_by("pk").values_list("pk", "data"):
        resealed = dict(data)
        for name in AUTHENTICATOR_SECRETS:
            stored = data.get(name)
            if not isinstance(stored, str) or sealed_secret_version(stored) == sealer.version:
                continue
            try:
                resealed[name] = seal_secret(unseal_secret(stored), sealer=sealer)
            except (DecryptionError, ValueError) as exc:
                report.unreadable.add(f"{AUTHENTICATORS} row {pk}: {exc}")
        if resealed == data:
            continue
        # Compare-and-swap, as for columns: a factor changed meanwhile is looked at again.
        if Authenticator.objects.filter(pk=pk, data=data).update(data=resealed):
            changed += 1
        else:
            report.conflicts += 1
    return changed


def data_key_rotate(
    *,
    batch_size: int = 500,
    pause: float = 0.0,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RotationReport:
    """Re-seal everything under a new data key, then delete the old keys."""
    target, resumed = data_key_begin_rotation()
    keys.forget_cached_keys()
    sealer = Sealer()
    if sealer.version != target.version:
        raise RotationError(f"v{sealer.version} seals, not the new v{target.version}")
    report = RotationReport(version=target.version, resumed=resumed)
    # Other processes seal under an older key until their copy of the key table expires;
    # only a pass that starts after that, and finds nothing left, ends the rotation.
    # (A second more: the key's time is taken just before its row was committed.)
    settled_at = target.created_at + timedelta(seconds=keys.cache_seconds() + 1)
    while True:
        report.passes += 1
        pass_started = timezone.now()
        conflicts_before, changed = report.conflicts, 0
        for column in SEALED_COLUMNS:
            count = _reseal_column(column, sealer, report, batch_size=batch_size, pause=pause)
            report.resealed[column.label] = report.resealed.get(column.label, 0) + count
            changed += count
            if progress:
                progress(column.label, count)
        for label, count in (
            (RECORDINGS, _reseal_recordings(sealer, report, pause=pause)),
            (AUTHENTICATORS, _reseal_authenticators(sealer, report)),
        ):
            report.resealed[label] = report.resealed.get(label, 0) + count
            changed += count
            if progress:
                progress(label, count)
        if changed == 0 and report.conflicts == conflicts_before and pass_started >= settled_at:
            destroyed = data_keys_destroy_except(keep=target)
            if destroyed is not None:
                report.destroyed = destroyed
                return report
            # A value sealed under an old key before the pass committed after it (an
            # import's batch, a request that sealed before it saved): another pass.
            report.late += 1
            continue
        wait = (settled_at - timezone.now()).total_seconds()
        if changed == 0 and wait > 0:
            sleep(wait)


@transaction.atomic
def data_keys_destroy_except(*, keep: DataKey) -> list[int] | None:
    """Delete every data key but ``keep``, unless a stored value still opens under one of
    them: then nothing is deleted and None is returned (re-seal, and try again).

    The check runs inside the deleting transaction with the key rows locked. On SQLite
    that transaction holds the write lock from its start (BEGIN IMMEDIATE), so no value
    can be committed between the check and the deletion."""
    doomed = list(
        DataKey.objects.select_for_update().exclude(pk=keep.pk).values_list("version", flat=True)
    )
    if not doomed:
        return []
    late = _values_opening_under(set(doomed))
    if late:
        logger.info("%s values still open under data keys %s; not deleting them", late, doomed)
        return None
    DataKey.objects.filter(version__in=doomed).delete()
    keys.forget_cached_keys()
    logger.info("Deleted data keys %s; everything is sealed under v%s", doomed, keep.version)
    return doomed


def _values_opening_under(versions: set[int]) -> int:
    """How many stored values (sealed columns, recordings, second-factor secrets) are
    sealed under one of ``versions`` and open. A damaged value that no key opens does
    not count: deleting its key loses nothing, and it must not hold a rotation forever."""
    from allauth.mfa.models import Authenticator

    from tuidang.accounts.adapter import sealed_secret_version, unseal_secret
    from tuidang.calls import recordings
    from tuidang.calls.models import Voicemail

    found = 0
    for column in SEALED_COLUMNS:
        model = column.model_class()
        rows = model._default_manager.values_list("public_id", column.column)
        for public_id, value in rows.iterator():
            blob = bytes(value or b"")
            if key_version(blob) in versions:
                place = {"table": model._meta.db_table, "row": str(public_id)}
                found += _opens(blob, **place, field=column.place)
    for path in recordings.stored_files():
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted by retention meanwhile
        if key_version(blob) in versions:
            row = path.name.removesuffix(recordings.SUFFIX)
            found += _opens(blob, table=Voicemail._meta.db_table, row=row, field="audio")
    for data in Authenticator.objects.values_list("data", flat=True).iterator():
        for name in AUTHENTICATOR_SECRETS:
            stored = data.get(name)
            if isinstance(stored, str) and sealed_secret_version(stored) in versions:
                try:
                    unseal_secret(stored)
                except (DecryptionError, ValueError):
                    continue
                found += 1
    return found


def _opens(blob: bytes, *, table: str, row: str, field: str) -> bool:
    try:
        unseal_bytes(blob, table=table, row=row, field=field)
    except DecryptionError:
        return False
    return True


@transaction.atomic
def data_keys_rewrap(*, new_kek: bytes) -> int:
    """Wrap every data key under ``new_kek``; keys already wrapped under it are skipped, so
    running it again after an interruption finishes the job. Returns how many changed."""
    old_kek = keys.configured_kek()
    old_id, new_id = keys.kek_id(old_kek), keys.kek_id(new_kek)
    changed = 0
    for row in DataKey.objects.select_for_update().order_by("pk"):
        if row.kek_id == new_id:
            continue
        if row.kek_id != old_id:
            raise keys.KeyUnavailable(
                f"data key v{row.version} is wrapped by KEK {row.kek_id}, neither FIELD_KEK "
                f"({old_id}) nor the new one ({new_id})"
            )
        key = keys.unwrap(bytes(row.wrapped), version=row.version, kek=old_kek)
        row.wrapped = keys.wrap(key, version=row.version, kek=new_kek)
        row.kek_id = new_id
        row.save(update_fields=["wrapped", "kek_id"])
        changed += 1
    return changed


def sealed_versions() -> dict[str, dict[int, int]]:
    """How many stored values each key version seals, per column (and recordings)."""
    from tuidang.calls import recordings

    found: dict[str, dict[int, int]] = {}
    for column in SEALED_COLUMNS:
        counts: dict[int, int] = {}
        values = column.model_class()._default_manager.values_list(column.column, flat=True)
        for value in values.iterator():
            version = key_version(bytes(value or b""))
            if version is not None:
                counts[version] = counts.get(version, 0) + 1
        found[column.label] = counts
    counts = {}
    for path in recordings.stored_files():
        version = key_version(path.read_bytes()[:64])
        if version is not None:
            counts[version] = counts.get(version, 0) + 1
    found[RECORDINGS] = counts
    from allauth.mfa.models import Authenticator

    from tuidang.accounts.adapter import sealed_secret_version

    counts = {}
    for data in Authenticator.objects.values_list("data", flat=True):
        for name in AUTHENTICATOR_SECRETS:
            stored = data.get(name)
            version = sealed_secret_version(stored) if isinstance(stored, str) else None
            if version is not None:
                counts[version] = counts.get(version, 0) + 1
    found[AUTHENTICATORS] = counts
    return found
