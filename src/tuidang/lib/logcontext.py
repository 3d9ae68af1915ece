"""What every log line of a request carries: the request's id and the call's id.

``RequestIdMiddleware`` gives each request an id (the proxy's ``X-Request-ID`` when it
sends a plain one, else a fresh one) and answers it in the same header; the calls domain
and the webhooks name the call being handled (``log_context_bind``). ``ContextFilter``
puts both on every record, so the JSON lines (``LOG_FORMAT=json``) hold them. The call
is named by the hotline's own id for it, never by a phone number nor the provider's id.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_call_id: contextvars.ContextVar[str] = contextvars.ContextVar("call_id", default="")

# An id from the proxy is kept only if it is plain: letters, digits, dots, dashes.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOG_FORMATS = ("plain", "json")


def log_context_bind(*, call_id: int | str) -> None:
    """Name the call this request (or task) is about, for its remaining log lines."""
    _call_id.set(str(call_id))


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _PLAIN_ID.fullmatch(offered) else uuid.uuid4().hex
        request_token = _request_id.set(request_id)
        call_token = _call_id.set("")
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(request_token)
            _call_id.reset(call_token)
        response["X-Request-ID"] = request_id
        return response


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``call_id`` (empty outside a request or a call) to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.call_id = _call_id.get()
        return True


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` setting: plain lines, or JSON lines with the ids."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "tuidang.lib.logcontext.ContextFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(call_id)s",
                "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
