import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """PeriodicJob, moved from lib: the table lib_periodicjob and its rows are kept as they
    are. A new database gets the table from lib's first migration."""

    initial = True

    dependencies = [
        ("lib", "0002_move_datakey_and_periodicjob"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PeriodicJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=40, unique=True)),
                        (
                            "next_run_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("last_started_at", models.DateTimeField(blank=True, null=True)),
                        ("last_finished_at", models.DateTimeField(blank=True, null=True)),
                        ("last_result", models.CharField(blank=True, max_length=400)),
                    ],
                    options={"db_table": "lib_periodicjob"},
                ),
            ],
            database_operations=[],
        ),
    ]
