from django.db import migrations


class Migration(migrations.Migration):
    """DataKey moved to the vault app and PeriodicJob to the jobs app: they leave lib's
    state only. Their tables and rows stay where they are (vault and jobs use them)."""

    dependencies = [
        ("lib", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DataKey"),
                migrations.DeleteModel(name="PeriodicJob"),
            ],
            database_operations=[],
        ),
    ]
