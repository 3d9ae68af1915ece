from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0011_region_codes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="declaration",
            index=models.Index(
                condition=models.Q(("import_key__isnull", True)),
                fields=["receipt_salt"],
                name="declaration_receipt_idx",
            ),
        ),
    ]
