"""What the public pages and the open data cost once per publication, not per request.

A news story and a flood both land on the public site. Everything it shows of the
figures is computed once per *generation*, kept in Django's cache (Redis when
``REDIS_URL`` is set, so every app server shares it) under a key that names the
generation, and served from there:
- the statistics' generation (``declarations.services.statistics_generation``) moves
  when a publication or an import commits;
- the hotline numbers' (``calls.selectors.generation``) when a coordinator edits one;
- the witnessing's (``tlog.services.witnessing_generation``) when a checkpoint is signed
  or a witness cosigns one.
A new generation is a new key: nothing is ever invalidated by hand, and the entries of
old generations expire. Pages also expire after ``PAGE_SECONDS``, for what changes with
no publication (the day's turn at midnight). In front of the
shared cache each process holds what it served for a second (``lib/memo.py``): a new
publication reaches every process within a second, and a reader's request asks nothing of
the cache or the database in between.

The pages a story sends readers to (``page``) are kept whole, as every anonymous reader
gets them (they hold no form: the language is chosen with a link, ``lib/language.py``),
and with the open data's files also gzipped once for the readers that accept it.

Files of the open data carry an ETag (a digest of their bytes) and ``Cache-Control``: a
client that sends the ETag back (``If-None-Match``) gets ``304 Not Modified`` from the
cache alone.
"""

from __future__ import annotations

import gzip
import hashlib
import re
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
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

from tuidang.calls.selectors import generation as numbers_generation
from tuidang.declarations.services import statistics_generation
from tuidang.lib import memo
from tuidang.tlog.services import witnessing_generation

PAGE_SECONDS = 60
# How long a browser or a proxy may reuse a data file before asking again (with its ETag).
DATA_MAX_AGE = 300

T = TypeVar("T")

# Stands in a kept page for the reader's CSRF token (letters only: nothing escapes it).
CSRF_PLACEHOLDER = "csrftokenofthereaderkeptpage"
# "gzip" in Accept-Encoding, unless with a weight of zero ("gzip;q=0": not acceptable).
ACCEPTS_GZIP = re.compile(r"\bgzip\b(?!\s*;\s*q\s*=\s*0(?:\.0{0,3})?\s*(?:,|$))", re.IGNORECASE)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))


def generation() -> str:
    # The replica read from (``READ_REPLICA``) is part of it: a page read from a replica
    # that lags is never served as one read from the primary, nor the other way round.
    replica = getattr(settings, "READ_REPLICA", "")
    # The witnesses a server is configured with, and the quorum, are part of it too: two
    # servers configured apart (a change rolled out one at a time) never share a page.
    witnesses = hashlib.sha256(
        f"{settings.TLOG_WITNESSES}|{settings.TLOG_WITNESS_QUORUM}".encode()
    ).hexdigest()[:12]
    witnessed = f"{witnessing_generation()}.{witnesses}"
    return f"{statistics_generation()}.{numbers_generation()}.{witnessed}.{replica}"


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


@dataclass(frozen=True)
class Encoded:
    """Bytes as kept, and gzipped once for the readers whose browsers accept it."""

    body: bytes
    gzipped: bytes

    @classmethod
    def of(cls, body: bytes) -> Encoded:
        return cls(body, gzip.compress(body, compresslevel=6, mtime=0))

    def response(self, request: HttpRequest, content_type: str, etag: str = "") -> HttpResponse:
        """The bytes the reader accepts, gzipped if they may be (``Vary`` says so)."""
        zipped = accepts_gzip(request)
        response = HttpResponse(self.gzipped if zipped else self.body, content_type=content_type)
        if zipped:
            response["Content-Encoding"] = "gzip"
        if etag:
            response["ETag"] = etag
        patch_vary_headers(response, ["Accept-Encoding"])
        return response


def page(
    request: HttpRequest, name: str, template: str, context: Callable[[], dict[str, object]]
) -> HttpResponse:
    """``template`` as every anonymous reader gets it, rendered once per generation and
    language. A reader who is logged in, has a message waiting or asks with a query string
    gets it rendered for them. Should the page ever hold a form, each reader's CSRF token
    is put in as it is served, and it is not compressed (a secret beside text an attacker
    chooses must not be, for BREACH)."""
    if request.GET or request.user.is_authenticated or len(get_messages(request)):
        return render(request, template, context())

    def build() -> str | Encoded:
        text = render_to_string(
            template, {**context(), "csrf_token": CSRF_PLACEHOLDER}, request=request
        )
        return text if CSRF_PLACEHOLDER in text else Encoded.of(text.encode())

    kept = cached(f"page:{name}", build)
    if isinstance(kept, str):
        return HttpResponse(kept.replace(CSRF_PLACEHOLDER, get_token(request)))
    return kept.response(request, "text/html; charset=utf-8")


@dataclass(frozen=True)
class DataFile:
    encoded: Encoded
    content_type: str
    etag: str

    @property
    def body(self) -> bytes:
        return self.encoded.body

    @classmethod
    def of(cls, body: bytes, content_type: str) -> DataFile:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(Encoded.of(body), content_type, f'"{digest}"')


def data_response(
    request: HttpRequest, name: str, build: Callable[[], DataFile]
) -> HttpResponseBase:
    """A file of the open data from the cache, or 304 when the client has it already.
    Its gzipped bytes are another representation of it, with an ETag of their own."""
    data = cached(name, build, per_language=False)
    zipped = accepts_gzip(request)
    etag = f'{data.etag[:-1]}-gzip"' if zipped else data.etag
    response: HttpResponseBase | None = get_conditional_response(request, etag=etag)
    if response is None:
        response = data.encoded.response(request, data.content_type, etag)
    else:
        response["ETag"] = etag
        patch_vary_headers(response, ["Accept-Encoding"])
    patch_cache_control(response, public=True, max_age=DATA_MAX_AGE)
    return response
