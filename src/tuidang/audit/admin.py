"""The audit log in the admin: administrators read it; nobody adds, edits or deletes.

Coordinators are staff (they use the admin for prompts and queues) but not
administrators: the log says what they read, so they do not read the log.
"""

from __future__ import annotations

from typing import Any, TypeVar

from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from tuidang.audit.models import Action, AuditEvent
from tuidang.audit.services import audit_record


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["at", "actor_name", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_id"]
    date_hierarchy = "at"
    fields = ["at", "actor_name", "action", "target_type", "target_id"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


_M = TypeVar("_M", bound=Model)


class AuditedAdmin(admin.ModelAdmin[_M]):
    """For the admin of a sensitive model: opening a record, adding, changing and deleting
    it are audit events, written in the admin's own transaction."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: _M | None = None,
    ) -> HttpResponse:
        if obj is not None and request.method == "GET":
            audit_record(actor=request.user, action=Action.VIEW, target=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def log_addition(self, request: HttpRequest, obj: _M, message: Any) -> Any:
        audit_record(actor=request.user, action=Action.CREATE, target=obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: _M, message: Any) -> Any:
        audit_record(actor=request.user, action=Action.CHANGE, target=obj)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_record(actor=request.user, action=Action.DELETE, target=obj)
        return super().log_deletions(request, queryset)


# Accounts and second factors are audited too: an administrator who changes someone's
# password or staff flag, or opens the record holding their authenticator secret, leaves
# an event. Their admins come from Django and allauth (registered before this app, which
# comes after them in INSTALLED_APPS); they are registered again with auditing added.
admin.site.unregister(User)
admin.site.unregister(Authenticator)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin[User], UserAdmin[User]):
    pass


@admin.register(Authenticator)
class AuditedAuthenticatorAdmin(AuditedAdmin[Authenticator], AuthenticatorAdmin):
    pass
