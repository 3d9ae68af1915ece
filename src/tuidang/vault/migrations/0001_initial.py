import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """DataKey, moved from lib: the table lib_datakey and its rows are kept as they are.
    A new database gets the table from lib's first migration."""

    initial = True

    dependencies = [
        ("lib", "0002_move_datakey_and_periodicjob"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DataKey",
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
                        ("version", models.PositiveSmallIntegerField(unique=True)),
                        ("wrapped", models.BinaryField()),
                        ("kek_id", models.CharField(max_length=16)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"db_table": "lib_datakey"},
                ),
            ],
            database_operations=[],
        ),
    ]
