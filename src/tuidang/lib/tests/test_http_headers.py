"""Every response the project sends carries its security headers.

The walk requests every URL pattern (`urlwalk`) as an anonymous visitor, a volunteer, a
coordinator and an administrator, over HTTPS with the production HSTS settings, and
checks each response, whatever its status: pages, redirects to the login, 403s, 404s,
405s, webhook refusals and static files served by WhiteNoise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from tuidang.lib.tests.urlwalk import walk_urls
from tuidang.testing.logins import log_in
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db(databases=["default", "phone_network"])

HSTS = {
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
}
STATIC_FILES = ["/static/tuidang/site.css", "/static/vendor/htmx-2.0.11.min.js"]


def policy(response: _MonkeyPatchedWSGIResponse) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def header_problems(response: _MonkeyPatchedWSGIResponse, *, personal: bool) -> list[str]:
    """What is wrong with one response's headers, in words."""
    problems = []
    csp = policy(response)
    every_source = [value for values in csp.values() for value in values]
    if "'unsafe-inline'" in every_source or "'unsafe-eval'" in every_source:
        problems.append(f"CSP allows inline code or eval: {csp}")
    expected = {
        "default-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
    }
    for name, values in expected.items():
        if csp.get(name) != values:
            problems.append(f"CSP {name} is {csp.get(name)}, not {values}")
    if response.headers.get("Strict-Transport-Security") != (
        "max-age=31536000; includeSubDomains; preload"
    ):
        problems.append(f"HSTS is {response.headers.get('Strict-Transport-Security')!r}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.headers.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    if personal and "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.headers.get('Cache-Control')!r}")
    # Sent whole, not chunked (lib/middleware.py, ContentLengthMiddleware); no length where
    # there is no body by definition.
    length = response.headers.get("Content-Length")
    if response.status_code in (204, 304):
        if length is not None:
            problems.append(f"Content-Length {length!r} on a {response.status_code}")
    elif not response.streaming and length != str(len(response.content)):
        problems.append(f"Content-Length is {length!r}")
    return problems


def walk(client: Client, *, user: User | None = None) -> tuple[int, dict[str, list[str]]]:
    """Request every endpoint once, with a method it takes; the problems by URL.

    With ``user``, every request is made logged in as them (the walk passes the logout
    URL too, so the session is renewed whenever a request ended it).
    """
    found: dict[str, list[str]] = {}
    requested = 0
    for endpoint in walk_urls():
        if user is not None and "_auth_user_id" not in client.session:
            client.force_login(user)
        method = "get" if endpoint.allows("GET") else "post"
        response = getattr(client, method)(endpoint.url, secure=True)
        requested += 1
        problems = header_problems(response, personal=user is not None)
        if problems:
            found[f"{method.upper()} {endpoint.url} ({response.status_code})"] = problems
    return requested, found


def logged_in(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_the_walk_reaches_pages_only_a_logged_in_person_sees(ada: Volunteer) -> None:
    """The walk below must really be logged in, or it would check the login redirects."""
    client = logged_in(ada.user)
    walk(client, user=ada.user)
    assert client.get(reverse("admin:index"), secure=True).status_code == 200
    assert client.get(reverse("desk:desk"), secure=True).status_code == 200


@override_settings(**HSTS)
def test_every_anonymous_response_carries_the_security_headers(
    numbers: HotlineNumbers,
) -> None:
    requested, problems = walk(Client(raise_request_exception=False))
    assert requested > 50
    assert problems == {}


@override_settings(**HSTS)
@pytest.mark.parametrize("persona", ["mei", "lin", "ada"])
def test_every_response_to_a_person_carries_the_headers_and_is_never_stored(
    persona: str, request: pytest.FixtureRequest, numbers: HotlineNumbers
) -> None:
    user = request.getfixturevalue(persona).user
    requested, problems = walk(logged_in(user), user=user)
    assert requested > 50
    assert problems == {}


@override_settings(**HSTS)
def test_static_files_carry_the_headers_and_stay_cacheable() -> None:
    client = Client()
    for url in STATIC_FILES:
        response = client.get(url, secure=True)
        assert response.status_code == 200, url
        assert header_problems(response, personal=False) == [], url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


@override_settings(**HSTS)
def test_errors_and_refusals_carry_the_headers(mei: Volunteer) -> None:
    anonymous = Client(raise_request_exception=False)
    refusals = [
        anonymous.get("/no/such/page", secure=True),  # 404
        anonymous.post(reverse("telephony:twilio-voice"), secure=True),  # unsigned webhook
        anonymous.get(reverse("desk:desk"), secure=True),  # redirect to the login
        anonymous.get(reverse("admin:index"), secure=True),
    ]
    assert [response.status_code for response in refusals] == [404, 403, 302, 302]
    for response in refusals:
        assert header_problems(response, personal=False) == []


def test_the_login_page_and_logging_in_are_never_stored(mei: Volunteer) -> None:
    client = Client()
    page = client.get(reverse("login"))
    assert "no-store" in page.headers["Cache-Control"]
    logging_in = log_in(client, "mei")
    assert logging_in.status_code == 302
    assert client.get(reverse("desk:desk")).status_code == 200
    assert "no-store" in logging_in.headers["Cache-Control"]
    logging_out = client.post(reverse("logout"))
    assert "no-store" in logging_out.headers["Cache-Control"]


def test_a_desk_page_tells_the_browser_not_to_keep_it(mei: Volunteer) -> None:
    response = logged_in(mei.user).get(reverse("desk:desk"))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


def test_log_tiles_stay_cacheable_for_the_public() -> None:
    response = Client().get(reverse("tlog:checkpoint"))
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_plain_http_sends_no_hsts_and_https_does() -> None:
    with override_settings(**HSTS):
        assert "Strict-Transport-Security" not in Client().get(STATIC_FILES[0]).headers
        assert "Strict-Transport-Security" in Client().get(STATIC_FILES[0], secure=True).headers


def test_an_answer_says_its_length_unless_it_has_no_body_by_definition() -> None:
    from django.http import HttpResponse, StreamingHttpResponse
    from django.test import RequestFactory

    from tuidang.lib.middleware import ContentLengthMiddleware

    def length(response: HttpResponse | StreamingHttpResponse) -> str | None:
        answered = ContentLengthMiddleware(lambda request: response)(RequestFactory().post("/"))
        return answered.headers.get("Content-Length")

    assert length(HttpResponse(b"<Response/>")) == "11"
    assert length(HttpResponse(b"", status=403)) == "0"
    # A status callback's answer, a desk's poll with nothing new, a cached page.
    assert length(HttpResponse(status=204)) is None
    assert length(HttpResponse(status=304)) is None
    assert length(StreamingHttpResponse(iter([b"a", b"b"]))) is None
