"""The coordinators' moderation of statements: each consented statement shown masked,
published as the copy the coordinator edits, or rejected with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tuidang.declarations.models import Statement
from tuidang.declarations.statements import (
    NotModerated,
    statement_approve,
    statement_draft,
    statement_reject,
    statements_to_moderate,
)
from tuidang.desk.decorators import volunteer_coordinator_required
from tuidang.desk.forms import StatementModerationForm
from tuidang.volunteers.models import Volunteer

# Statements shown at once: each is opened (and audited) to be shown.
QUEUE_PAGE = 10


@login_required
@require_GET
@never_cache
@volunteer_coordinator_required
def queue(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return _queue(request, failed=None)


def _queue(
    request: HttpRequest, *, failed: tuple[int, StatementModerationForm] | None
) -> HttpResponse:
    assert isinstance(request.user, User)
    items = []
    for statement in statements_to_moderate()[:QUEUE_PAGE]:
        if failed is not None and failed[0] == statement.pk:
            form = failed[1]
        else:
            alias, text = statement_draft(statement=statement, by=request.user)
            form = StatementModerationForm(initial={"alias": alias, "text": text})
        items.append((statement, form))
    status = 400 if failed is not None else 200
    return render(request, "desk/statements.html", {"items": items}, status=status)


@login_required
@require_POST
@never_cache
@volunteer_coordinator_required
def decide(request: HttpRequest, coordinator: Volunteer, statement_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    statement = get_object_or_404(Statement, pk=statement_id)
    form = StatementModerationForm(request.POST)
    if not form.is_valid():
        return _queue(request, failed=(statement.pk, form))
    try:
        if form.cleaned_data["decision"] == "approve":
            statement_approve(
                statement=statement,
                text=form.cleaned_data["text"],
                alias=form.cleaned_data["alias"],
                by=request.user,
            )
            messages.success(request, _("The statement is published."))
        else:
            statement_reject(
                statement=statement, reason=form.cleaned_data["reason"], by=request.user
            )
            messages.success(request, _("The statement is rejected."))
    except NotModerated:
        messages.error(request, _("Someone else has already decided on this statement."))
    return redirect("desk:statements")
