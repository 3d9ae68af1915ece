"""Indexes a new call added to and nothing read: the calls of a number, and on PostgreSQL
the second (``…_like``) index of each provider id and case code (lib/pattern_indexes.py).

The number's index is dropped by name, not by altering the field: SQLite alters a field
by copying its table, a year of calls."""

import django.db.models.deletion
from django.db import migrations, models

from tuidang.lib.pattern_indexes import drop_pattern_indexes

NUMBER_INDEX = "calls_call_hotline_number_id_95490df1"


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0018_partial_call_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name="hotline_number",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="calls.hotlinenumber",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{NUMBER_INDEX}"',
                    f'CREATE INDEX "{NUMBER_INDEX}" ON "calls_call" ("hotline_number_id")',
                ),
            ],
        ),
        drop_pattern_indexes(
            ("calls", "call", "provider_sid"),
            ("calls", "call", "case_code"),
            ("calls", "offer", "leg_sid"),
            ("calls", "voicemail", "recording_sid"),
            ("calls", "voicemail", "callback_leg_sid"),
        ),
    ]
