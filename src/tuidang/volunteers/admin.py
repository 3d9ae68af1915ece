from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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


class VolunteerForm(forms.ModelForm[Volunteer]):
    """The profile with its phone in clear for the administrator editing it; stored sealed."""

    phone_address = forms.CharField(
        label=_("phone or SIP address"),
        max_length=200,
        help_text=_("An E.164 number, a sip: address, or client:<name> for a softphone."),
    )

    class Meta:
        model = Volunteer
        fields = [
            "user",
            "display_name",
            "role",
            "phone_address",
            "presence",
            "presence_since",
            "missed_offers",
            "screener",
            "time_zone",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("phone_address", self.instance.phone_address)

    def save(self, commit: bool = True) -> Volunteer:
        self.instance.phone_address = self.cleaned_data["phone_address"]
        return super().save(commit=commit)


@admin.register(Volunteer)
class VolunteerAdmin(AuditedAdmin[Volunteer]):
    """A volunteer's phone is personal: opening and changing a profile is audited, and the
    phone is shown in clear only here (and to the volunteer on their own settings page)."""

    form = VolunteerForm
    list_display = ["display_name", "role", "presence", "presence_since"]
    list_filter = ["role", "presence"]
    inlines = [VolunteerLanguageInline]
