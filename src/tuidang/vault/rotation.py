"""Key rotation while the hotline runs (`tuidang rotate-keys`).

A data-key rotation makes a new key, re-seals everything sealed (every sealed column and
every store the apps register, vault/stores.py) under it in small batches, and then
deletes the older keys: from then on they
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

from django.db import transaction
from django.utils import timezone

from tuidang.vault import keys
from tuidang.vault.models import DataKey
from tuidang.vault.sealing import Sealer
from tuidang.vault.stores import sealed_stores

logger = logging.getLogger(__name__)


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
        for store in sealed_stores():
            done = store.reseal(sealer, batch_size=batch_size, pause=pause)
            report.resealed[store.label] = report.resealed.get(store.label, 0) + done.changed
            report.conflicts += done.conflicts
            report.unreadable.update(done.unreadable)
            changed += done.changed
            if progress:
                progress(store.label, done.changed)
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
    return sum(store.opening_under(versions) for store in sealed_stores())


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
    """How many stored values each key version seals, per column (and recordings, and
    second-factor secrets)."""
    found: dict[str, dict[int, int]] = {}
    for store in sealed_stores():
        counts: dict[int, int] = {}
        for version in store.versions():
            counts[version] = counts.get(version, 0) + 1
        found[store.label] = counts
    return found
