"""SQLite: refuse an INSERT whose id is already taken, so REPLACE cannot rewrite an event.

`INSERT OR REPLACE` (or `REPLACE`) with an existing id deletes the old row and inserts
the new one, and SQLite fires no DELETE trigger for that deletion unless the connection
turns `recursive_triggers` on. A BEFORE INSERT trigger runs before the conflict is
resolved, so it aborts the statement while the old row is still there. An ordinary
insert leaves the id to SQLite and never meets an existing one. Our SQLite backend's
`flush` lifts and restores this trigger with the others on the table (lib/sqlite/base.py).

PostgreSQL has no REPLACE; its `INSERT … ON CONFLICT DO UPDATE` fires the row UPDATE
trigger of 0002 and is refused by it.
"""

from django.db import migrations

TABLE = "audit_auditevent"
MESSAGE = "audit events are append-only"

SQLITE_FORWARD = (
    f"CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON {TABLE} "
    f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_event_no_replace"


def _on_sqlite(statement: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [migrations.RunPython(_on_sqlite(SQLITE_FORWARD), _on_sqlite(SQLITE_BACKWARD))]
