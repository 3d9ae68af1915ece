"""Everything sealed under the data keys, so that rotation, its last check before an old
key is deleted, `tuidang rotate-keys --status`, the first key's check and backups look
at all of it.

Sealed columns are found by walking the models (every ``Sealed`` attribute,
vault/fields.py). Whatever else an app seals — voicemail recordings in files,
second-factor secrets inside another app's rows — it registers in its
``AppConfig.ready()`` as a ``SealedStore``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, models, transaction

from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.vault.fields import Sealed, sealed_columns
from tuidang.vault.sealing import Sealer, unseal_bytes


@dataclass
class Resealed:
    """What one pass of a store's re-sealing did."""

    changed: int = 0
    conflicts: int = 0  # values edited meanwhile, looked at again on the next pass
    unreadable: list[str] = field(default_factory=list)  # values no key opens


class SealedStore(ABC):
    """A place where values are sealed under the data keys."""

    label: str  # how `rotate-keys --status` and errors name it

    @abstractmethod
    def holds_sealed_data(self) -> bool:
        """Whether anything sealed is stored here (asked when the key table is empty)."""

    @abstractmethod
    def versions(self) -> Iterator[int]:
        """The key version of each value sealed here."""

    @abstractmethod
    def reseal(self, sealer: Sealer, *, batch_size: int, pause: float) -> Resealed:
        """Seal again under ``sealer``'s key what another key sealed, without overwriting
        a value changed meanwhile (a conflict, which the next pass looks at again)."""

    @abstractmethod
    def opening_under(self, versions: set[int]) -> int:
        """How many values here are sealed under one of ``versions`` and open. A damaged
        value that no key opens does not count."""

    def files(self) -> tuple[str, Path] | None:
        """Where this store keeps sealed files, for backups: the name of their folder in
        a backup and the directory they live in. None: it keeps none (all is in the
        database)."""
        return None

    def stored_files(self) -> list[Path]:
        """The sealed files to back up, when ``files()`` names a directory."""
        return []


_registered: list[SealedStore] = []


def sealed_store_register(store: SealedStore) -> None:
    """Add ``store`` to what rotation and backups look at (from ``AppConfig.ready()``).
    Registering a store of the same class and label again replaces it."""
    for index, known in enumerate(_registered):
        if known.label == store.label:
            if type(known) is not type(store):
                raise ValueError(f"a sealed store named {store.label!r} is registered already")
            _registered[index] = store
            return
    _registered.append(store)


def sealed_stores() -> list[SealedStore]:
    """Every sealed column of the installed models, then every registered store."""
    return [*(ColumnStore(column) for column in sealed_columns()), *_registered]


def opens(blob: bytes, *, table: str, row: str, field: str) -> bool:
    """Whether ``blob`` opens in this place under a key still held."""
    try:
        unseal_bytes(blob, table=table, row=row, field=field)
    except DecryptionError:
        return False
    return True


class ColumnStore(SealedStore):
    """A column of sealed values; each is bound to its row's ``public_id`` and a place."""

    def __init__(self, column: Sealed) -> None:
        self.column = column
        self.model: type[models.Model] = column.model
        self.label = column.label

    def holds_sealed_data(self) -> bool:
        return self.model._default_manager.exclude(**{self.column.column: b""}).exists()

    def versions(self) -> Iterator[int]:
        values = self.model._default_manager.values_list(self.column.column, flat=True)
        for value in values.iterator():
            version = key_version(bytes(value or b""))
            if version is not None:
                yield version

    def reseal(self, sealer: Sealer, *, batch_size: int, pause: float) -> Resealed:
        model, name = self.model, self.column.column
        table = model._meta.db_table
        quote = connection.ops.quote_name
        column = model._meta.get_field(name)
        assert isinstance(column, models.Field)
        assert model._meta.pk is not None
        value_column = quote(column.column)
        update = (  # Names from the model's metadata, quoted; values are parameters.
            f"UPDATE {quote(table)} SET {value_column} = %s "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s AND {value_column} = %s"
        )
        done, last = Resealed(), 0
        while True:
            rows = list(
                model._default_manager.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "public_id", name)[:batch_size]
            )
            if not rows:
                return done
            last = rows[-1][0]
            swaps: list[tuple[int, bytes, bytes]] = []
            for pk, public_id, value in rows:
                blob = bytes(value or b"")
                if not blob or key_version(blob) == sealer.version:
                    continue
                place = self.column.bound_to(table=table, row=str(public_id))
                try:
                    plaintext = unseal_bytes(blob, **place)
                except DecryptionError as exc:
                    done.unreadable.append(f"{self.label} row {pk}: {exc}")
                    continue
                swaps.append((pk, blob, sealer.seal(plaintext, **place)))
            # One short transaction per batch; each row by compare-and-swap: only if the
            # value is still the one read above, so an edit made meanwhile is never
            # overwritten.
            if swaps:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(update, [(sealed, pk, blob) for pk, blob, sealed in swaps])
                    swapped = cursor.rowcount
                done.changed += swapped
                done.conflicts += len(swaps) - swapped
            if pause:
                time.sleep(pause)

    def opening_under(self, versions: set[int]) -> int:
        table = self.model._meta.db_table
        found = 0
        rows = self.model._default_manager.values_list("public_id", self.column.column)
        for public_id, value in rows.iterator():
            blob = bytes(value or b"")
            if key_version(blob) in versions:
                found += opens(blob, **self.column.bound_to(table=table, row=str(public_id)))
        return found
