from django.contrib import admin

from tuidang.audit.admin import AuditedAdmin
from tuidang.volunteers.models import Volunteer, VolunteerLanguage


class VolunteerLanguageInline(admin.TabularInline[VolunteerLanguage, Volunteer]):
    model = VolunteerLanguage
    extra = 1


@admin.register(Volunteer)
class VolunteerAdmin(AuditedAdmin[Volunteer]):
    """A volunteer's phone is personal: opening and changing a profile is audited."""

    list_display = ["display_name", "role", "presence", "presence_since"]
    list_filter = ["role", "presence"]
    inlines = [VolunteerLanguageInline]
