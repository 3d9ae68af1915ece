from django.contrib import admin

from tuidang.screening.models import ScreeningSettings
from tuidang.volunteers.admin import CoordinatorAdmin


@admin.register(ScreeningSettings)
class ScreeningSettingsAdmin(CoordinatorAdmin[ScreeningSettings]):
    list_display = ["screening_group_at", "message_at", "reject_at", "half_life_hours"]
