from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from tuidang.audit.admin import AuditedAdmin
from tuidang.volunteers.models import Volunteer, VolunteerLanguage
from tuidang.volunteers.selectors import volunteer_for

_M = TypeVar("_M", bound=Model)


class CoordinatorAdmin(admin.ModelAdmin[_M]):
    """Rows coordinators look after in the admin (the catalogue, talking points, prompts,
    queues): theirs by their role, with no permission to grant each account by hand.
    Others need the model's permissions as usual."""

    def _coordinator(self, request: HttpRequest) -> bool:
        if not request.user.is_active or not request.user.is_staff:
            return False
        volunteer = volunteer_for(request)
        return volunteer is not None and volunteer.is_coordinator

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._coordinator(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._coordinator(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._coordinator(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._coordinator(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._coordinator(request) or super().has_delete_permission(request, obj)


class VolunteerLanguageInline(admin.TabularInline[VolunteerLanguage, Volunteer]):
    model = VolunteerLanguage
    extra = 1


@admin.register(Volunteer)
class VolunteerAdmin(AuditedAdmin[Volunteer]):
    """A volunteer's phone is personal: opening and changing a profile is audited."""

    list_display = ["display_name", "role", "presence", "presence_since"]
    list_filter = ["role", "presence"]
    inlines = [VolunteerLanguageInline]
