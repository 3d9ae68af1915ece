from django.contrib import admin

from tuidang.volunteers.models import Volunteer, VolunteerLanguage


class VolunteerLanguageInline(admin.TabularInline[VolunteerLanguage, Volunteer]):
    model = VolunteerLanguage
    extra = 1


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin[Volunteer]):
    list_display = ["display_name", "role", "presence", "presence_since"]
    list_filter = ["role", "presence"]
    inlines = [VolunteerLanguageInline]
