from django.db import migrations, models

INDEX = "declarations_declaration_declared_on_75039f1f"


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0008_fewer_btrees_per_declaration"),
    ]

    operations = [
        # Only the index goes: AlterField would rebuild the whole table on SQLite.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="declaration",
                    name="declared_on",
                    field=models.DateField(verbose_name="date"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "declarations_declaration" ("declared_on")',
                ),
            ],
        ),
    ]
