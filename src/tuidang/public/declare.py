"""Declaring online: the form, its checks and the receipts.

The form works without JavaScript. Its token, signed with when it was served, makes a
second post of the same form record nothing more (declarations/online.py). With scripts
on, the page solves a proof of work bound to that token (screening/web.py); without, the
form is accepted a few seconds after it was served and its statements are held for
moderation behind the others. A refused form comes back with everything typed in it and
says why, beside the field, and when to try again.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tuidang.accounts.lockout import client_address
from tuidang.declarations.models import Declaration
from tuidang.declarations.online import declaration_record_online, declarations_of_form
from tuidang.declarations.services import receipt_code
from tuidang.public.forms import DeclarationForm, PersonForm
from tuidang.screening.web import address_key, challenge_for, web_admit, web_flood, work_verify

# The declarant and, in blocks of their own, up to this many people they speak for.
OTHERS = 6
_SALT = "tuidang.public.declare"
_YOU = "you"


def _new_token() -> str:
    return signing.dumps({"n": secrets.token_urlsafe(16), "at": int(time.time())}, salt=_SALT)


def _token_age(token: str) -> float | None:
    """Seconds since the form was served; None: not a token this site signed, or expired."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=settings.ONLINE_FORM_HOURS * 3600)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("at"), int):
        return None
    return time.time() - float(value["at"])


def _people(data: Any = None) -> list[PersonForm]:
    return [PersonForm(data, prefix=_YOU, for_self=True)] + [
        PersonForm(data, prefix=f"p{i}", for_self=False) for i in range(1, OTHERS + 1)
    ]


@require_http_methods(["GET", "POST"])
@never_cache
def declare(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = DeclarationForm(initial={"token": _new_token()})
        return _page(request, form=form, people=_people(), status=200)
    form = DeclarationForm(request.POST)
    people = _people(request.POST)
    valid = form.is_valid() & all([person.is_valid() for person in people])
    chosen = [person for person in people if valid and not person.is_empty()]
    if valid and not chosen:
        people[0].add_error("alias", _("Fill in at least one person: yourself or someone else."))
        valid = False
    token = str(form.data.get("token", ""))
    age = _token_age(token) if token else None
    if age is None:
        # Missing, altered or expired: a new one, and the form as it was typed.
        fresh = _fresh(
            form, token_error=_("This form has expired or was altered. Check it and send it again.")
        )
        return _page(request, form=fresh, people=people, status=400)
    if not valid:
        return _page(request, form=form, people=people, status=400)
    earlier = declarations_of_form(token=token)
    if earlier is not None:
        # Posted again (a double click, a resend): the same receipts, nothing recorded.
        return _receipts(request, earlier)
    work = form.cleaned_data["work"]
    if work and not work_verify(payload=work, token=token):
        form.add_error("work", _("The browser check did not pass. Send the form again."))
        return _page(request, form=_fresh(form), people=people, status=400)
    delay = settings.ONLINE_NO_SCRIPT_DELAY_SECONDS
    if not work and age < delay:
        wait = int(delay - age) + 1
        form.add_error(
            "work",
            _(
                "Sent too soon for a browser without scripts. "
                "Wait %(seconds)s seconds, then send it again."
            )
            % {"seconds": wait},
        )
        return _page(request, form=form, people=people, status=429)
    now = timezone.now()
    admission = web_admit(key=address_key(client_address(request)), now=now)
    if not admission.allowed:
        form.add_error(
            None,
            _(
                "Too many declarations have come from your connection. "
                "Nothing is lost: send this form again after %(time)s (UTC)."
            )
            % {"time": _utc(admission.retry_at or now)},
        )
        return _page(request, form=form, people=people, status=429)
    declarations, _again = declaration_record_online(
        token=token,
        people=[person.person() for person in chosen],
        hold_statements=admission.flood or not work,
    )
    return _receipts(request, declarations)


def _receipts(request: HttpRequest, declarations: list[Declaration]) -> HttpResponse:
    receipts = [
        {"alias": declaration.alias, "code": receipt_code(declaration)}
        for declaration in declarations
    ]
    return render(request, "public/receipts.html", {"receipts": receipts}, status=201)


def _fresh(form: DeclarationForm, *, token_error: str = "") -> DeclarationForm:
    """The same form with a new token and challenge, its errors kept (but the token's,
    which ``token_error`` replaces)."""
    data = dict(form.data.items())
    data["token"] = _new_token()
    data["work"] = ""
    fresh = DeclarationForm(data)
    fresh.is_valid()
    for field, errors in form.errors.items():
        for error in errors:
            if field != "token":
                fresh.add_error(None if field == "__all__" else field, error)
    if token_error:
        fresh.add_error("token", token_error)
    return fresh


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")


def _page(
    request: HttpRequest, *, form: DeclarationForm, people: list[PersonForm], status: int
) -> HttpResponse:
    token = form.data.get("token") if form.is_bound else form.initial["token"]
    now = timezone.now()
    others = [_block(person, legend=_("A family member or friend")) for person in people[1:]]
    context = {
        "form": form,
        "you": _block(people[0], legend=_("Yourself")),
        "others": [
            {"html": html, "open": n == 0 or person.has_content()}
            for n, (person, html) in enumerate(zip(people[1:], others, strict=True))
        ],
        "challenge": challenge_for(token=str(token), flood=web_flood(now=now), now=now),
    }
    return render(request, "public/declare.html", context, status=status)


def _block(person: PersonForm, *, legend: str) -> str:
    """A person's block of the page. Nothing typed in it, it is the same on every page in
    a language: rendered once per process, for a flood's refused forms (and every visit)
    would otherwise each render seven blocks of fields and their lists of provinces."""
    if person.is_bound and (person.has_content() or person.errors):
        return _render_block(person, legend)
    return _empty_block(get_language() or "", person.prefix or "", legend)


@lru_cache(maxsize=64)
def _empty_block(language: str, prefix: str, legend: str) -> str:
    # ``language`` is the active one: in the key, so that each language has its own.
    empty = PersonForm(prefix=prefix, for_self=prefix == _YOU)
    return _render_block(empty, legend)


def _render_block(person: PersonForm, legend: str) -> str:
    return render_to_string("public/person.html", {"person": person, "legend": legend})
