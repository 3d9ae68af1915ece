"""Fewer B-trees per declaration, without rewriting a large registry five times.

Imported declarations have no call and no recorder: the indexes on those columns become
partial and leave them out. ``import_key`` becomes a named unique constraint (PostgreSQL
then needs no pattern index beside it), and on SQLite the id loses AUTOINCREMENT.

The model state changes as Django's AlterFields would say; the database changes are
written out, because those AlterFields rebuild the whole table once each on SQLite, and
on PostgreSQL drop and re-check the foreign keys with ``calls_call`` and ``auth_user``
locked. Here SQLite rebuilds the table once, and PostgreSQL swaps two indexes, renames
a constraint and drops an index: no row is read again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tuidang.declarations.models

PARTIAL = {"call_id": "declaration_call_idx", "recorded_by_id": "declaration_recorded_by_idx"}
UNIQUE = "one_declaration_per_import_key"


def fewer_btrees(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")  # as it is after this
    if schema_editor.connection.vendor == "sqlite":
        # SQLite alters a column only by rebuilding its table: once, to the new shape.
        schema_editor._remake_table(Declaration)
        return
    quote = schema_editor.quote_name
    table = quote(Declaration._meta.db_table)
    for column, partial in PARTIAL.items():
        for name in schema_editor._constraint_names(Declaration, [column], index=True):
            if name != partial:
                schema_editor.execute(f"DROP INDEX {quote(name)}")
    for index in Declaration._meta.indexes:
        if index.name in PARTIAL.values():
            schema_editor.add_index(Declaration, index)
    for name in schema_editor._constraint_names(
        Declaration, ["import_key"], unique=True, exclude={UNIQUE}
    ):
        schema_editor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {quote(name)} TO {quote(UNIQUE)}")
    for name in schema_editor._constraint_names(
        Declaration, ["import_key"], index=True, unique=False
    ):
        schema_editor.execute(f"DROP INDEX {quote(name)}")  # the pattern index


class Migration(migrations.Migration):

    dependencies = [
        ("declarations", "0007_monthly_rollup_daily_total"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="declaration",
                    name="call",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="declarations", to="calls.call"),
                ),
                migrations.AlterField(
                    model_name="declaration",
                    name="id",
                    field=tuidang.declarations.models.RowIdField(primary_key=True, serialize=False, verbose_name="ID"),
                ),
                migrations.AlterField(
                    model_name="declaration",
                    name="import_key",
                    field=models.CharField(blank=True, max_length=100, null=True),
                ),
                migrations.AlterField(
                    model_name="declaration",
                    name="recorded_by",
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AddIndex(
                    model_name="declaration",
                    index=models.Index(condition=models.Q(("call__isnull", False)), fields=["call"], name="declaration_call_idx"),
                ),
                migrations.AddIndex(
                    model_name="declaration",
                    index=models.Index(condition=models.Q(("recorded_by__isnull", False)), fields=["recorded_by"], name="declaration_recorded_by_idx"),
                ),
                migrations.AddConstraint(
                    model_name="declaration",
                    constraint=models.UniqueConstraint(fields=("import_key",), name=UNIQUE),
                ),
            ],
        ),
        migrations.RunPython(fewer_btrees, elidable=False),
    ]
