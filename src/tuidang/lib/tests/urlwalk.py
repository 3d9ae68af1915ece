"""Every URL the project answers, each with a concrete address to request.

Tests that must hold for *every* page (who may see it, which headers it sends) walk the
project's resolver with this instead of keeping a list by hand, so a new URL cannot slip
past them::

    from tuidang.lib.tests.urlwalk import walk_urls

    for endpoint in walk_urls():
        response = client.get(endpoint.url)
        ...

Each `Endpoint` carries:

- ``key``: the namespaced URL name (``"desk:desk"``), or the route when the pattern
  has no name (some of the admin's), so every endpoint has a stable, unique label;
- ``route``: the whole pattern from the root, e.g. ``"desk/calls/<int:call_id>/record"``;
- ``url``: a path to request, with sample arguments filled in (``"/desk/calls/1/record"``).
  Samples are syntactically valid (an int, a UUID, a slug, a token, one of the admin's app
  labels, ...) but usually name no row, so object pages often answer 404;
- ``methods``: the HTTP methods the view accepts, when the view declares them (a class-based
  view's handlers, or ``require_http_methods``/``require_POST``/``require_GET``), else None.

Includes are walked (the admin's too). The simulated phone network's URLs are present
when ``TELEPHONY_PROVIDER`` is ``simulated``, which the test settings make the default;
`walk_urls` takes another urlconf module for other cases.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, converters, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

SAMPLE_UUID = uuid.UUID("00000000-0000-4000-8000-000000000001")

# A sample for each of Django's path converters; a converter of our own falls back to
# trying the generic candidates below against its regex.
_CONVERTER_SAMPLES: dict[type[Any], Any] = {
    converters.IntConverter: 1,
    converters.UUIDConverter: SAMPLE_UUID,
    converters.SlugConverter: "sample-slug",
    converters.StringConverter: "sample",
    # The admin's object ids are paths; a number reads as one of its primary keys.
    converters.PathConverter: "1",
}
# Tried in order for arguments of regex patterns; the first that matches is used.
_GENERIC_CANDIDATES = ("1", "000", "0", "sample", "sample-slug", str(SAMPLE_UUID), "x")


@dataclass(frozen=True)
class Endpoint:
    key: str
    route: str
    url: str
    methods: frozenset[str] | None
    callback: Callable[..., Any]
    name: str | None

    def allows(self, method: str) -> bool:
        """Whether the view takes ``method``; unknown methods count as allowed."""
        return self.methods is None or method.upper() in self.methods


def walk_urls(urlconf: str | None = None, samples: dict[str, str] | None = None) -> list[Endpoint]:
    """Every URL pattern reachable from ``urlconf`` (the project's by default).

    ``samples`` maps an argument name to the value to put in the URL, overriding the
    built-in samples (for example ``{"call_id": str(call.pk)}`` to reach a real call).
    """
    resolver = get_resolver(urlconf)
    endpoints = [
        _endpoint(chain, namespaces, samples or {})
        for chain, namespaces in _leaves(resolver.url_patterns, (), ())
    ]
    keys = [endpoint.key for endpoint in endpoints]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        # A name reused in one namespace shadows the first for reverse(); number them.
        seen: dict[str, int] = {}
        renamed = []
        for endpoint in endpoints:
            if endpoint.key in duplicates:
                seen[endpoint.key] = seen.get(endpoint.key, 0) + 1
                endpoint = _replace_key(endpoint, f"{endpoint.key}#{seen[endpoint.key]}")
            renamed.append(endpoint)
        endpoints = renamed
    return endpoints


def _replace_key(endpoint: Endpoint, key: str) -> Endpoint:
    return Endpoint(
        key=key,
        route=endpoint.route,
        url=endpoint.url,
        methods=endpoint.methods,
        callback=endpoint.callback,
        name=endpoint.name,
    )


Chain = tuple[URLResolver | URLPattern, ...]


def _leaves(
    patterns: Sequence[URLResolver | URLPattern], chain: Chain, namespaces: tuple[str, ...]
) -> Iterator[tuple[Chain, tuple[str, ...]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _leaves(pattern.url_patterns, (*chain, pattern), inner)
        else:
            yield (*chain, pattern), namespaces


def _endpoint(chain: Chain, namespaces: tuple[str, ...], samples: dict[str, str]) -> Endpoint:
    leaf = chain[-1]
    assert isinstance(leaf, URLPattern)
    route = "".join(_route_text(item.pattern) for item in chain)
    url = "/" + "".join(_fill(item.pattern, samples) for item in chain)
    name = ":".join((*namespaces, leaf.name)) if leaf.name else None
    return Endpoint(
        key=name or route,
        route=route,
        url=url,
        methods=_methods(leaf.callback),
        callback=leaf.callback,
        name=name,
    )


def _route_text(pattern: Any) -> str:
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$").replace("\\", "")
    return text


def _fill(pattern: Any, samples: dict[str, str]) -> str:
    """This level of the URL with every argument replaced by a value its regex accepts."""
    if isinstance(pattern, RoutePattern):
        values: dict[str, str] = {
            name: samples.get(name) or converter.to_url(_converter_sample(converter))
            for name, converter in pattern.converters.items()
        }
        format_string, _params = normalize(pattern.regex.pattern)[0]
        return _checked(pattern, format_string % values)
    assert isinstance(pattern, RegexPattern)
    regex = pattern.regex.pattern
    # Each alternative the regex can produce, with the names of its arguments.
    for format_string, params in normalize(regex):
        found = _regex_values(regex, params, samples)
        if found is not None:
            return _checked(pattern, format_string % found)
    raise ValueError(f"No sample arguments match the URL pattern {regex!r}")


def _converter_sample(converter: Any) -> Any:
    if type(converter) in _CONVERTER_SAMPLES:
        return _CONVERTER_SAMPLES[type(converter)]
    for candidate in _GENERIC_CANDIDATES:
        if re.fullmatch(converter.regex, candidate):
            return converter.to_python(candidate)
    raise ValueError(f"No sample value for the path converter {type(converter).__name__}")


def _regex_values(regex: str, params: list[str], samples: dict[str, str]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for param in params:
        group = _group_regex(regex, param)
        candidates = [samples[param]] if param in samples else []
        candidates += [*_GENERIC_CANDIDATES, *(c.label for c in apps.get_app_configs())]
        chosen = next((c for c in candidates if group is None or re.fullmatch(group, c)), None)
        if chosen is None:
            return None
        values[param] = chosen
    return values


def _group_regex(regex: str, param: str) -> str | None:
    """The sub-pattern of the named group ``param``, when its parentheses are balanced."""
    start = regex.find(f"(?P<{param}>")
    if start < 0:
        return None
    depth = 0
    body_start = start + len(f"(?P<{param}>")
    index = start
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return regex[body_start:index]
        index += 1
    return None


def _checked(pattern: Any, text: str) -> str:
    if pattern.match(text) is None:
        raise ValueError(f"Sample URL part {text!r} does not match {pattern}")
    return text


def _methods(callback: Callable[..., Any]) -> frozenset[str] | None:
    """The methods a view declares it takes, or None when it does not say."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return frozenset(
            method.upper()
            for method in view_class.http_method_names
            if method != "options" and hasattr(view_class, method)
        ) | ({"HEAD"} if hasattr(view_class, "get") else set())
    # require_http_methods() keeps its list in the closure of the wrapper it returns;
    # follow the chain of functools.wraps through any other decorators.
    function: Any = callback
    while function is not None:
        if inspect.isfunction(function):
            nonlocals = inspect.getclosurevars(function).nonlocals
            allowed = nonlocals.get("request_method_list")
            if allowed is not None:
                return frozenset(method.upper() for method in allowed)
        function = getattr(function, "__wrapped__", None)
    return None
