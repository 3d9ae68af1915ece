"""The log's checkpoints, the cosignatures its witnesses gave them, and what it knows of
each witness: read-only, in the admin."""

from __future__ import annotations

from django.contrib import admin

from tuidang.lib.admin import ReadOnlyAdmin
from tuidang.tlog.models import Cosignature, SignedCheckpoint, WitnessState


class CosignatureInline(admin.TabularInline[Cosignature, SignedCheckpoint]):
    model = Cosignature
    fields = ["witness", "signed_at", "line"]
    readonly_fields = ["witness", "signed_at", "line"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SignedCheckpoint)
class SignedCheckpointAdmin(ReadOnlyAdmin[SignedCheckpoint]):
    list_display = ["size", "created_at"]
    date_hierarchy = "created_at"
    exclude = ["root", "frontier"]
    inlines = [CosignatureInline]

    def get_readonly_fields(self, request: object, obj: object = None) -> list[str]:
        return ["size", "created_at", "note"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin[Cosignature]):
    list_display = ["checkpoint", "witness", "signed_at", "created_at"]
    list_filter = ["witness"]
    list_select_related = ["checkpoint"]


@admin.register(WitnessState)
class WitnessStateAdmin(ReadOnlyAdmin[WitnessState]):
    list_display = ["witness", "size", "cosigned_at", "attempted_at", "last_error"]
