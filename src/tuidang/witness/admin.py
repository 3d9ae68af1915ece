"""What a witness keeps, read-only in the admin: the latest checkpoint it cosigned per
log, and the checkpoints it refused, kept as evidence of a log's misbehaviour."""

from __future__ import annotations

from django.contrib import admin

from tuidang.lib.admin import ReadOnlyAdmin
from tuidang.witness.models import Evidence, WitnessedLog


@admin.register(WitnessedLog)
class WitnessedLogAdmin(ReadOnlyAdmin[WitnessedLog]):
    list_display = ["origin", "witness", "size", "updated_at"]
    exclude = ["root"]

    def get_readonly_fields(self, request: object, obj: object = None) -> list[str]:
        return ["witness", "origin", "size", "checkpoint", "updated_at"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin[Evidence]):
    list_display = ["received_at", "origin", "witness", "status", "reason"]
    list_filter = ["status", "origin"]
    date_hierarchy = "received_at"
