"""The desk's poll, cheap when nothing changed.

Every desk asks every second what it shows: the volunteer's presence, the waiting callers
per language and the shown call's state. Most answers are the same as the last, so the
desk says which versions of that state it last saw, in a signed token, and a middleware at
the top of the stack (``DeskPollMiddleware``) answers 204 when they still hold, without
loading the session, the user, a template or any row.

What the desk shows has two versions, kept in the configured cache, which every process
reads the same (Redis when ``REDIS_URL`` is set, else files under var/cache): a version is
bumped by the webhook's process and read by the desk's:

- ``desk:calls``: bumped whenever a call's state or its volunteer changes (the queues'
  counts and the shown call's state and buttons);
- ``desk:volunteer:<pk>``: bumped whenever the volunteer's presence changes.

A version is a random value, not a counter: a version the cache lost (evicted, restarted)
reads as missing, and a missing version never answers 204 (the full view sets a new one).
Each change bumps its versions once its transaction commits, and the full view reads the
versions before the rows: a poll that read the old rows always carries the old version.

The token is the volunteer's, bound to their session (a hash of the session key, checked
against the session cookie) and to the call the desk shows, and lives
``TOKEN_MAX_AGE`` seconds: then the full view answers once more, with the session's own
checks (expiry, idle time, second factor), and hands out a new token.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, parse_cookie

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

CALLS = "desk:calls"
HEADER = "X-Desk-State"  # the token, in the response and back in the next poll
TOKEN_MAX_AGE = 60  # seconds
_SALT = "tuidang.desk.poll"
_PATH = "/desk/live"
# Call.State.IVR and Call.State.SCREENED (this module is imported before the models).
_ON_NO_DESK = frozenset({"ivr", "screened"})


def volunteer_key(volunteer_id: int) -> str:
    return f"desk:volunteer:{volunteer_id}"


def _new_version() -> str:
    return secrets.token_hex(8)


def versions_bump(*keys: str) -> None:
    """New versions for ``keys`` once the transaction commits (not before: a poll between
    the bump and the commit would keep the old rows under the new version)."""

    def bump() -> None:
        try:
            cache.set_many({key: _new_version() for key in keys}, timeout=None)
        except Exception:  # the call goes on; desks follow once their tokens expire
            logger.warning("The desk's versions could not be bumped", exc_info=True)

    transaction.on_commit(bump)


def versions_current(keys: list[str]) -> list[str]:
    """The versions of ``keys``, setting any the cache does not hold. Read before the rows
    they stand for, so that a change after the read shows in the next poll. Without the
    cache, versions no poll will match: every poll is answered in full."""
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, _new_version(), timeout=None)
        if len(found) < len(keys):
            found = cache.get_many(keys)
    except Exception:
        logger.warning("The desk's versions could not be read", exc_info=True)
        found = {}
    return [str(found.get(key) or "unknown-" + _new_version()) for key in keys]


def _session_hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def token_for(*, volunteer_id: int, session_key: str, shown: str, versions: list[str]) -> str:
    value = "|".join([str(volunteer_id), _session_hash(session_key), shown, *versions])
    return signing.TimestampSigner(salt=_SALT).sign(value)


def unchanged(request: HttpRequest) -> bool:
    """Whether ``request`` is a desk poll whose token still holds (see ``token_holds``)."""
    return token_holds(
        token=request.headers.get(HEADER),
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
        shown=request.GET.get("call", ""),
    )


def token_holds(*, token: str | None, session_key: str | None, shown: str) -> bool:
    """Whether a poll's token still holds: the session's own, for the call shown, not
    expired, every version as the desk last saw it."""
    if not token or not session_key or len(token) > 300:
        return False
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    parts = value.split("|")
    if len(parts) != 5:
        return False
    volunteer_id, session_hash, token_shown, *seen = parts
    if session_hash != _session_hash(session_key) or token_shown != shown:
        return False
    try:
        current = cache.get_many([CALLS, volunteer_key(int(volunteer_id))])
    except Exception:
        return False  # the full view answers
    return [current.get(CALLS), current.get(volunteer_key(int(volunteer_id)))] == seen


class DeskPollMiddleware:
    """Answer the desk's poll 204 when nothing it shows changed (see the module).

    Anything else, and any poll whose token does not hold, goes down the stack as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == _PATH and request.method == "GET" and unchanged(request):
            response = HttpResponse(status=204)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


def _call_saved(
    sender: Any, instance: Any, update_fields: Any = None, created: bool = False, **_: Any
) -> None:
    # A desk shows the queues and the volunteer's own call: a call that arrives in the
    # menu, or screened out (most of a flood), shows on none until its state is saved again.
    if created:
        shown = instance.state not in _ON_NO_DESK or instance.volunteer_id is not None
    else:
        shown = update_fields is None or bool({"state", "volunteer"} & set(update_fields))
    if shown:
        versions_bump(CALLS)


def _transfer_saved(sender: Any, **_: Any) -> None:
    versions_bump(CALLS)


def _volunteer_saved(sender: Any, instance: Any, update_fields: Any = None, **_: Any) -> None:
    if update_fields is None or "presence" in update_fields:
        versions_bump(volunteer_key(instance.pk))


def _assignment_saved(sender: Any, instance: Any, update_fields: Any = None, **_: Any) -> None:
    # A shift starting (or a volunteer put on one) asks them to go available.
    versions_bump(volunteer_key(instance.volunteer_id))


def _assignment_deleted(sender: Any, instance: Any, **_: Any) -> None:
    # A volunteer taken off a shift (dropped, a cancelled date, a deleted shift).
    versions_bump(volunteer_key(instance.volunteer_id))


def connect() -> None:
    """Bump the versions on every save that changes what a desk shows (``ready()``)."""
    from django.db.models.signals import post_delete, post_save

    from tuidang.calls.models import Call, ListenIn, Transfer
    from tuidang.shifts.models import Assignment
    from tuidang.volunteers.models import Volunteer

    post_save.connect(_call_saved, sender=Call, dispatch_uid="desk.poll.call")
    # A transfer's state shows on both volunteers' desks, a listen-in's on the volunteer's.
    post_save.connect(_transfer_saved, sender=Transfer, dispatch_uid="desk.poll.transfer")
    post_save.connect(_transfer_saved, sender=ListenIn, dispatch_uid="desk.poll.listen_in")
    post_save.connect(_volunteer_saved, sender=Volunteer, dispatch_uid="desk.poll.volunteer")
    post_save.connect(_assignment_saved, sender=Assignment, dispatch_uid="desk.poll.assignment")
    post_delete.connect(
        _assignment_deleted, sender=Assignment, dispatch_uid="desk.poll.assignment-deleted"
    )


def wsgi_shortcut(application: WSGIApplication) -> WSGIApplication:
    """The WSGI application, with an unchanged desk's poll answered 204 before Django's
    request handling (``config/wsgi.py``): the same check as ``DeskPollMiddleware``,
    without building a request or running the middleware above it. Anything else, and
    every poll in a process that does not serve the desk (``SERVE_ONLY_PATHS``), goes to
    ``application``."""
    only = tuple(settings.SERVE_ONLY_PATHS)
    if only and not _PATH.startswith(only):
        return application

    def shortcut(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == _PATH and environ.get("REQUEST_METHOD") == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
            if token_holds(
                token=environ.get("HTTP_" + HEADER.upper().replace("-", "_")),
                session_key=cookies.get(settings.SESSION_COOKIE_NAME),
                shown=(query.get("call") or [""])[-1],
            ):
                start_response("204 No Content", [("Cache-Control", "no-store")])
                return []
        return application(environ, start_response)

    return shortcut
