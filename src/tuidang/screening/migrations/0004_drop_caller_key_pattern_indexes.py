"""On PostgreSQL, no second (``…_like``) index of the caller keys (lib/pattern_indexes.py)."""

from django.db import migrations

from tuidang.lib.pattern_indexes import drop_pattern_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0003_webhit"),
    ]

    operations = [
        drop_pattern_indexes(
            ("screening", "callerscore", "caller_key"), ("screening", "block", "caller_key")
        ),
    ]
