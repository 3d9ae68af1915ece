from django.contrib import admin

from tuidang.screening.models import ScreeningSettings


@admin.register(ScreeningSettings)
class ScreeningSettingsAdmin(admin.ModelAdmin[ScreeningSettings]):
    list_display = ["screening_group_at", "message_at", "reject_at", "half_life_hours"]
