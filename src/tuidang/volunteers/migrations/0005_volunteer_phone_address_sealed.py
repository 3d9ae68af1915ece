"""Volunteers' own phone numbers are sealed like other identifying text: each row gets the
public_id sealed values are bound to, its number is sealed into phone_address_sealed, and
the clear column is dropped. Reversed, the numbers are opened back into a clear column."""

import uuid
from typing import Any

from django.db import migrations, models

from tuidang.vault.sealing import seal, unseal

TABLE = "volunteers_volunteer"


def _place(volunteer: Any) -> dict[str, str]:
    # As vault.fields.Sealed binds Volunteer.phone_address.
    return {"table": TABLE, "row": str(volunteer.public_id), "field": "phone_address"}


def seal_numbers(apps: Any, schema_editor: Any) -> None:
    Volunteer = apps.get_model("volunteers", "Volunteer")
    # The database being migrated, not the default.
    for volunteer in Volunteer.objects.using(schema_editor.connection.alias).order_by("pk"):
        volunteer.public_id = uuid.uuid4()
        volunteer.phone_address_sealed = (
            seal(volunteer.phone_address, **_place(volunteer)) if volunteer.phone_address else b""
        )
        volunteer.save(update_fields=["public_id", "phone_address_sealed"])


def open_numbers(apps: Any, schema_editor: Any) -> None:
    Volunteer = apps.get_model("volunteers", "Volunteer")
    # The database being migrated, not the default.
    for volunteer in Volunteer.objects.using(schema_editor.connection.alias).order_by("pk"):
        blob = bytes(volunteer.phone_address_sealed)
        volunteer.phone_address = unseal(blob, **_place(volunteer)) if blob else ""
        volunteer.save(update_fields=["phone_address"])


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0001_initial"),
        ("volunteers", "0004_volunteer_presence_after_callback"),
    ]

    operations = [
        migrations.AddField(
            model_name="volunteer",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="volunteer",
            name="phone_address_sealed",
            field=models.BinaryField(
                blank=True, default=b"", verbose_name="phone or SIP address (encrypted)"
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="volunteer",
            name="phone_address",
            field=models.CharField(
                max_length=200, blank=True, default="", verbose_name="phone or SIP address"
            ),
        ),
        migrations.RunPython(seal_numbers, open_numbers),
        migrations.AlterField(
            model_name="volunteer",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.RemoveField(model_name="volunteer", name="phone_address"),
    ]
