from django.contrib import admin

from tuidang.calls.models import Call, HotlineNumber


@admin.register(HotlineNumber)
class HotlineNumberAdmin(admin.ModelAdmin[HotlineNumber]):
    list_display = ["name", "e164", "channel", "language", "active"]
    list_filter = ["channel", "active"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin[Call]):
    """Read-only: calls are written by the webhooks alone."""

    list_display = [
        "case_code",
        "started_at",
        "channel",
        "language",
        "region",
        "state",
        "volunteer",
    ]
    list_filter = ["state", "channel", "language"]
    search_fields = ["case_code"]
    # The caller key is for repeat-caller detection, not for people to read or search.
    exclude = ["caller_key"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
