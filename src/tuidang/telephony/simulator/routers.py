from __future__ import annotations

from typing import Any

DATABASE = "phone_network"
APP_LABEL = "simulator"


class PhoneNetworkRouter:
    """The simulated network's state lives in its own database, like a real provider's."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return DATABASE if model._meta.app_label == APP_LABEL else None  # type: ignore[attr-defined]

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return DATABASE if model._meta.app_label == APP_LABEL else None  # type: ignore[attr-defined]

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (db == DATABASE) == (app_label == APP_LABEL)
