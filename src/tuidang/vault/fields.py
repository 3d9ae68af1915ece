"""Sealed values: a model declares each one once, beside the column that stores it.

    alias_sealed = models.BinaryField(_("alias (encrypted)"), blank=True)
    alias = Sealed("alias_sealed")

``alias`` reads and writes in clear what ``alias_sealed`` holds sealed (AES-GCM under the
newest data key, vault/sealing.py). The associated data binds each value to its table,
its row's ``public_id`` and its place (the attribute's name unless ``place`` says
otherwise), so a value copied into another row or column does not open. Key rotation
finds every Sealed attribute by walking the models (``sealed_columns``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import overload

from django.apps import apps
from django.db import models

from tuidang.vault.sealing import seal, unseal


class Sealed(property):
    """The plaintext of the sealed column ``column``, on the model's instances.

    An empty value is stored empty, not sealed, and reads as empty; with ``seal_empty``
    it is sealed like any other (and an empty column does not open). A property, so that
    Django takes it as one: ``Declaration(alias=...)`` seals the alias."""

    model: type[models.Model]
    name: str

    def __init__(self, column: str, *, place: str = "", seal_empty: bool = False) -> None:
        super().__init__()
        self.column = column
        self.place = place
        self.seal_empty = seal_empty

    def __set_name__(self, owner: type[models.Model], name: str) -> None:
        self.model = owner
        self.name = name
        self.place = self.place or name

    @property
    def label(self) -> str:
        """The column as `tuidang rotate-keys --status` names it."""
        return f"{self.model._meta.label}.{self.column}"

    def bound_to(self, *, table: str, row: str) -> dict[str, str]:
        """The place a value of the row ``row`` (its public_id) is bound to."""
        return {"table": table, "row": row, "field": self.place}

    def _place(self, instance: models.Model) -> dict[str, str]:
        row = str(instance.public_id)  # type: ignore[attr-defined]
        return self.bound_to(table=instance._meta.db_table, row=row)

    @overload
    def __get__(self, instance: None, owner: type, /) -> Sealed: ...

    @overload
    def __get__(self, instance: models.Model, owner: type | None = None, /) -> str: ...

    def __get__(self, instance: models.Model | None, owner: type | None = None, /) -> Sealed | str:
        if instance is None:
            return self
        blob = getattr(instance, self.column)
        if not blob and not self.seal_empty:
            return ""
        return unseal(bytes(blob), **self._place(instance))

    def __set__(self, instance: models.Model, value: str) -> None:
        sealed = seal(value, **self._place(instance)) if value or self.seal_empty else b""
        setattr(instance, self.column, sealed)


def sealed_columns() -> Iterator[Sealed]:
    """Every sealed value the installed models declare."""
    for model in apps.get_models():
        for attribute in vars(model).values():
            if isinstance(attribute, Sealed) and attribute.model is model:
                yield attribute
