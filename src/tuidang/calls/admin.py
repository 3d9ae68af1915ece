from django.contrib import admin

from tuidang.audit.admin import AuditedAdmin
from tuidang.calls.models import Call, HotlineNumber, NumberPrompt, QueueConfig, TalkingPoint
from tuidang.volunteers.admin import CoordinatorAdmin


class NumberPromptInline(admin.StackedInline[NumberPrompt, HotlineNumber]):
    model = NumberPrompt
    extra = 0


@admin.register(HotlineNumber)
class HotlineNumberAdmin(admin.ModelAdmin[HotlineNumber]):
    list_display = ["name", "e164", "how_heard", "language", "active", "public"]
    list_filter = ["how_heard", "active", "public"]
    inlines = [NumberPromptInline]


@admin.register(NumberPrompt)
class NumberPromptAdmin(CoordinatorAdmin[NumberPrompt]):
    """Prompts without a number apply to every number."""

    list_display = ["kind", "language", "number", "text", "recording"]
    list_filter = ["kind", "language"]


@admin.register(QueueConfig)
class QueueConfigAdmin(CoordinatorAdmin[QueueConfig]):
    list_display = [
        "language", "fallback_language", "strategy", "ring_group_size",
        "overflow_after_seconds", "voicemail_after_seconds",
    ]  # fmt: skip


@admin.register(Call)
class CallAdmin(AuditedAdmin[Call]):
    """Read-only: calls are written by the webhooks alone; opening one is audited."""

    list_display = [
        "case_code",
        "started_at",
        "how_heard",
        "language",
        "region",
        "state",
        "volunteer",
    ]
    list_filter = ["state", "how_heard", "language"]
    search_fields = ["case_code"]
    # The caller key is for repeat-caller detection, not for people to read or search.
    exclude = ["caller_key"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TalkingPoint)
class TalkingPointAdmin(CoordinatorAdmin[TalkingPoint]):
    """Scripts volunteers read from during a call, per call type and language."""

    list_display = ["title", "call_type", "language", "position"]
    list_filter = ["call_type", "language"]
