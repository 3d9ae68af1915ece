"""The wallboard: coordinators' live page per language queue, and the read-only links
that show it on a wall screen without a login (``reports/wallboard.py``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tuidang.desk.decorators import coordinator_required
from tuidang.reports.models import WallboardLink
from tuidang.reports.wallboard import (
    CACHE_KEY,
    CACHE_SECONDS,
    board_read,
    wallboard_link_create,
    wallboard_link_open,
    wallboard_link_revoke,
)
from tuidang.volunteers.models import Volunteer


class LinkForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the screen"),
        max_length=80,
        help_text=gettext_lazy("Where it hangs, e.g. Taipei office."),
    )


def _page(
    request: HttpRequest, form: LinkForm, new_link: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "board_html": _board_html(),
        "board_url": reverse("desk:wallboard-board"),
        "links": WallboardLink.objects.filter(revoked_at__isnull=True),
        "form": form,
        "new_link": new_link,
    }
    return render(request, "desk/wallboard.html", context, status=status)


@login_required
@require_GET
@coordinator_required
def wallboard(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return _page(request, LinkForm())


@login_required
@require_GET
@coordinator_required
def wallboard_board(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    return HttpResponse(_board_html())


@login_required
@require_POST
@coordinator_required
def link_create(request: HttpRequest, coordinator: Volunteer) -> HttpResponse:
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    _link, token = wallboard_link_create(name=form.cleaned_data["name"], coordinator=coordinator)
    url = request.build_absolute_uri(reverse("wall", kwargs={"token": token}))
    return _page(request, LinkForm(), new_link=url)


@login_required
@require_POST
@coordinator_required
def link_revoke(request: HttpRequest, coordinator: Volunteer, link_id: int) -> HttpResponse:
    link = get_object_or_404(WallboardLink, pk=link_id)
    wallboard_link_revoke(link=link, coordinator=coordinator)
    messages.success(
        request, _("The link %(name)s no longer opens the wallboard.") % {"name": link.name}
    )
    return redirect("desk:wallboard")


def _board_html() -> SafeString:
    """The board's fragment in the reader's language, rendered at most once a second for
    every screen that polls it (the cache is shared by the app servers with Redis)."""
    key = f"{CACHE_KEY}:html:{get_language()}"
    found = cache.get(key)
    html = found if isinstance(found, str) else ""
    if not html:
        html = render_to_string("desk/_wallboard.html", {"board": board_read()})
        cache.set(key, html, timeout=CACHE_SECONDS)
    # Rendered by the template engine above, which escaped every value in it.
    return mark_safe(html)  # noqa: S308 # nosec B308 B703


def _opened(token: str) -> None:
    if wallboard_link_open(token) is None:
        raise Http404(_("This wallboard link does not exist or was revoked."))


@require_GET
def wall(request: HttpRequest, token: str) -> HttpResponse:
    """The wallboard through a read-only link, without a login."""
    _opened(token)
    context = {
        "board_html": _board_html(),
        "board_url": reverse("wall-board", kwargs={"token": token}),
    }
    return render(request, "desk/wall.html", context)


@require_GET
def wall_board(request: HttpRequest, token: str) -> HttpResponse:
    _opened(token)
    return HttpResponse(_board_html())
