"""What the public pages and the open data cost once per publication, not per request.

A news story and a flood both land on the public site. Everything it shows of the
figures is computed once per *generation*, kept in Django's cache (Redis when
``REDIS_URL`` is set, so every app server shares it) under a key that names the
generation, and served from there:
- the statistics' generation (``declarations.services.statistics_generation``) moves
  when a publication or an import commits;
- the hotline numbers' (``calls.selectors.generation``) when a coordinator edits one.
A new generation is a new key: nothing is ever invalidated by hand, and the entries of
old generations expire. Pages also expire after ``PAGE_SECONDS``, for what changes with
no publication (the witnesses' cosignatures, the day's turn at midnight). In front of the
shared cache each process holds what it served for a second (``lib/memo.py``): a new
publication reaches every process within a second, and a reader's request asks nothing of
the cache or the database in between.

The pages a story sends readers to (``page``) are kept whole, as every anonymous reader
gets them: only the CSRF token of the language switch is the reader's own, put in as the
page is served.

Files of the open data carry an ETag (a digest of their bytes) and ``Cache-Control``: a
client that sends the ETag back (``If-None-Match``) gets ``304 Not Modified`` from the
cache alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import get_language

from tuidang.calls.selectors import generation as numbers_generation
from tuidang.declarations.services import statistics_generation
from tuidang.lib import memo

PAGE_SECONDS = 60
# How long a browser or a proxy may reuse a data file before asking again (with its ETag).
DATA_MAX_AGE = 300

T = TypeVar("T")

# Stands in a kept page for the reader's CSRF token (letters only: nothing escapes it).
CSRF_PLACEHOLDER = "csrftokenofthereaderkeptpage"


def generation() -> str:
    # The replica read from (``READ_REPLICA``) is part of it: a page read from a replica
    # that lags is never served as one read from the primary, nor the other way round.
    replica = getattr(settings, "READ_REPLICA", "")
    return f"{statistics_generation()}.{numbers_generation()}.{replica}"


def cached(name: str, build: Callable[[], T], *, per_language: bool = True) -> T:
    """``build()``'s result for this generation (and the page's language)."""
    language = get_language() if per_language else "-"

    def shared() -> T:
        key = f"public:{name}:{language}:{generation()}"
        found = cache.get(key)
        if found is None:
            found = build()
            cache.set(key, found, PAGE_SECONDS)
        return found  # type: ignore[no-any-return]

    replica = getattr(settings, "READ_REPLICA", "")
    return memo.held(f"public:{name}:{language}:{replica}", shared)


def page(
    request: HttpRequest, name: str, template: str, context: Callable[[], dict[str, object]]
) -> HttpResponse:
    """``template`` as every anonymous reader gets it, rendered once per generation and
    language. A reader who is logged in, has a message waiting or asks with a query string
    gets it rendered for them."""
    if request.GET or request.user.is_authenticated or len(get_messages(request)):
        return render(request, template, context())

    def build() -> str:
        return render_to_string(
            template, {**context(), "csrf_token": CSRF_PLACEHOLDER}, request=request
        )

    body = cached(f"page:{name}", build)
    return HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)))


@dataclass(frozen=True)
class DataFile:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> DataFile:
        return cls(body, content_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def data_response(
    request: HttpRequest, name: str, build: Callable[[], DataFile]
) -> HttpResponseBase:
    """A file of the open data from the cache, or 304 when the client has it already."""
    data = cached(name, build, per_language=False)
    response = get_conditional_response(request, etag=data.etag)
    if response is None:
        response = HttpResponse(data.body, content_type=data.content_type)
    response["ETag"] = data.etag
    patch_cache_control(response, public=True, max_age=DATA_MAX_AGE)
    return response
