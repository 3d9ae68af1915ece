"""The published statements: the list (newest first, a page at a time by id, filtered by
province, day, organization and words) and each statement's permalink."""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuidang.declarations.models import Organization, Statement, StatementStatus
from tuidang.declarations.statements import Filters, statements_published
from tuidang.lib.regions import is_region
from tuidang.public.forms import province_choices


@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    query = request.GET
    region = query.get("region", "")
    organization = query.get("organization", "")
    day: date | None = None
    errors = []
    try:
        day = date.fromisoformat(query["day"]) if query.get("day") else None
    except ValueError:
        errors.append("day")
    if not is_region(region):
        errors.append("region")
        region = ""
    if organization and organization not in Organization.values:
        errors.append("organization")
        organization = ""
    words = query.get("q", "")[:100]
    try:
        before = int(query["before"]) if query.get("before") else None
    except ValueError:
        before = None
    filters = Filters(region=region, organization=organization, day=day, words=words)
    page, following = statements_published(filters=filters, before=before)
    context = {
        "statements": page,
        "following": following,
        "filters": filters,
        "errors": errors,
        "regions": province_choices(),
        "organizations": Organization.choices,
        "next_query": _with(request, before=following),
    }
    return render(request, "public/statements.html", context, status=400 if errors else 200)


def _with(request: HttpRequest, *, before: int | None) -> str:
    query = request.GET.copy()
    query["before"] = str(before or "")
    return query.urlencode()


@require_GET
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = (
        Statement.objects.filter(pk=statement_id, status=StatementStatus.PUBLISHED)
        .select_related("declaration")
        .first()
    )
    if statement is None:
        raise Http404("No such published statement")
    return render(request, "public/statement.html", {"statement": statement})
