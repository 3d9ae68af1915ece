"""Who may reach every URL of the project: a declared matrix, checked by walking them all.

Every URL pattern (`urlwalk`) is requested with GET and POST as an anonymous visitor, a
volunteer (Mei), a coordinator (Lin) and an administrator (Ada), the last two with their
second factor set up. Each answer must be the one the matrix declares. A URL the matrix
does not list fails the test, so no new page escapes it: add its row below, saying who
may use it.

URL arguments are samples that name no row (call 1, a random UUID), so a page that lets a
person in answers 404 for them: the rows show that the door is checked before the object
is looked up. Which calls a volunteer may act on is checked with real calls in
`test_a_volunteer_cannot_act_on_another_volunteers_call`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.lib.tests.urlwalk import Endpoint, walk_urls
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers, go_available
from tuidang.volunteers.models import Volunteer

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

PERSONAS = ("anonymous", "volunteer", "coordinator", "admin")

# What an answer can be. Statuses stand for themselves; redirects say where they lead.
LOGIN = "→login"  # to the accounts' login page
ADMIN_LOGIN = "→admin-login"  # to the admin's login, which sends on to the accounts' one
REAUTH = "→reauthenticate"  # allauth asks for the password again before a change
ELSEWHERE = "→elsewhere"  # any other redirect: the page did its work, or has moved
# Inside the admin an administrator may get a page, a redirect (an object that does not
# exist), 403 (a read-only model) or 404: anything but being sent to log in.
ADMIN_INSIDE: frozenset[int | str] = frozenset({200, ELSEWHERE, 403, 404})

Answer = int | str | frozenset[int | str]
Row = tuple[Answer, Answer, Answer, Answer]


def every(answer: Answer) -> Row:
    return (answer, answer, answer, answer)


def signed_in(answer: Answer, *, volunteer: Answer | None = None) -> Row:
    """Anonymous visitors are sent to log in; everyone logged in gets ``answer``."""
    return (LOGIN, answer if volunteer is None else volunteer, answer, answer)


def coordinators(answer: Answer) -> Row:
    """Anonymous visitors log in, volunteers are refused, coordinators get ``answer``."""
    return (LOGIN, 403, answer, answer)


ADMIN_ONLY: Row = (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_INSIDE)

# URL name (or route) → (GET row, POST row), each row by persona as in PERSONAS.
MATRIX: dict[str, tuple[Row, Row]] = {
    # The public site.
    "public:home": (every(200), every(405)),
    "public:verify": (every(200), every(400)),
    "public:verify-proof": (every(405), every(400)),  # POST without a file
    "public:numbers": (every(200), every(405)),
    "public:history": (every(200), every(405)),
    "public:data": (every(200), every(405)),
    "public:data-totals": (every(200), every(405)),
    "public:data-daily": (every(200), every(405)),
    "public:data-statements": (every(200), every(405)),
    "public:declare": (every(200), every(400)),  # POST without the form's token
    "public:statements": (every(200), every(405)),
    "public:statement": (every(404), every(405)),
    # The probes and the metrics (lib/health.py, lib/metrics.py): readiness depends on a
    # worker having beaten; /metrics answers 404 while METRICS_TOKEN is not set.
    "healthz": (every(200), every(405)),
    "readyz": (every(frozenset({200, 503})), every(405)),
    "metrics": (every(404), every(405)),
    # The desk.
    "desk:desk": (signed_in(200), signed_in(405)),
    "desk:live": (signed_in(200), signed_in(405)),
    "desk:presence": (signed_in(405), signed_in(ELSEWHERE)),
    "desk:profile": (signed_in(200), signed_in(400)),
    "desk:record-declarations": (signed_in(405), signed_in(404)),
    "desk:hang-up": (signed_in(405), signed_in(404)),
    "desk:record-call": (signed_in(405), signed_in(404)),
    "desk:transfer": (signed_in(405), signed_in(404)),
    "desk:hand-over": (signed_in(405), signed_in(404)),
    "desk:listen-in": (signed_in(405), coordinators(404)),
    "desk:whisper": (signed_in(405), coordinators(404)),
    "desk:stop-listening": (signed_in(405), coordinators(404)),
    "desk:team": (coordinators(200), signed_in(405)),
    "desk:team-live": (coordinators(200), signed_in(405)),
    "desk:open-case": (signed_in(200), signed_in(405)),
    "desk:revoke": (signed_in(405), coordinators(404)),
    "desk:callbacks": (signed_in(200), signed_in(405)),
    "desk:callback-audio": (signed_in(404), signed_in(405)),
    "desk:callback-handled": (signed_in(405), signed_in(404)),
    "desk:callback-call": (signed_in(405), signed_in(404)),
    # Coordinators' pages.
    "desk:screening": (coordinators(200), signed_in(405)),
    "desk:screening-block": (signed_in(405), coordinators(400)),
    "desk:screening-lift": (signed_in(405), coordinators(404)),
    "desk:flag": (signed_in(405), signed_in(404)),
    "desk:books-request": (signed_in(405), signed_in(404)),
    "desk:books": (coordinators(200), signed_in(405)),
    "desk:books-sent": (signed_in(405), coordinators(404)),
    # Shifts: a volunteer's own schedule and feed; slots and coverage for coordinators.
    "desk:shifts": (signed_in(200), signed_in(405)),
    "desk:shift-new": (coordinators(200), coordinators(400)),
    "desk:slot": (coordinators(404), signed_in(405)),
    "desk:slot-sign-up": (signed_in(405), signed_in(404)),
    "desk:slot-assign": (signed_in(405), coordinators(404)),
    "desk:slot-cancel": (signed_in(405), coordinators(404)),
    "desk:shift-edit": (coordinators(404), coordinators(404)),
    "desk:shift-delete": (signed_in(405), coordinators(404)),
    "desk:shift-drop": (signed_in(405), signed_in(404)),
    "desk:feed-new": (signed_in(405), signed_in(200)),
    "desk:feed-revoke": (signed_in(405), signed_in(ELSEWHERE)),
    # A calendar app asks without a login: the token is the key (a sample one: 404).
    "desk:feed": (every(404), every(405)),
    "desk:coverage": (coordinators(200), signed_in(405)),
    "desk:coverage-csv": (coordinators(200), signed_in(405)),
    "desk:queue-shifts": (signed_in(405), coordinators(ELSEWHERE)),
    "desk:statements": (coordinators(200), signed_in(405)),
    "desk:statement-decide": (signed_in(405), coordinators(404)),
    # Reports and the wallboard; a volunteer sees only their own occupancy.
    "desk:reports": (coordinators(200), signed_in(405)),
    "desk:reports-csv": (coordinators(200), signed_in(405)),
    "desk:occupancy": (signed_in(200), signed_in(405)),
    "desk:wallboard": (coordinators(200), signed_in(405)),
    "desk:wallboard-board": (coordinators(200), signed_in(405)),
    "desk:wallboard-link-create": (signed_in(405), coordinators(400)),
    "desk:wallboard-link-revoke": (signed_in(405), coordinators(404)),
    # A wall screen's read-only link needs no login, only a token that was not revoked.
    "wall": (every(404), every(405)),
    "wall-board": (every(404), every(405)),
    # The providers' webhooks: nobody gets in without the provider's signature.
    **{
        f"telephony:{provider}-{name}": (every(403), every(403))
        for provider in ["twilio", "telnyx"]
        for name in [
            "voice",
            "status",
            "language",
            "how-heard",
            "challenge",
            "wait",
            "wait-choice",
            "queue-exit",
            "voicemail",
            "bridge",
            "offer",
            "offer-respond",
            "offer-dial-ended",
            "offer-status",
            "callback",
            "callback-done",
            "callback-reached",
            "callback-status",
            "transfer",
            "transfer-respond",
            "transfer-join",
            "transfer-status",
            "listen",
            "conference-event",
            "listen-caller",
            "listen-status",
        ]
    },
    # Recorded prompts are fetched by the provider for <Play>: public, like the prompts.
    "telephony:prompt-audio": (every(404), every(405)),
    # The transparency log is public (404: no checkpoint signed yet in a fresh database).
    "tlog:checkpoint": (every(404), every(405)),
    "tlog:proof": (every(404), every(405)),
    "tlog:entries": (every(404), every(405)),
    "tlog:tile": (every(404), every(405)),
    # Accounts: the login sends whoever is logged in on; the rest needs a login.
    "login": ((200, ELSEWHERE, ELSEWHERE, ELSEWHERE), (200, ELSEWHERE, ELSEWHERE, ELSEWHERE)),
    "account_login": (
        (200, ELSEWHERE, ELSEWHERE, ELSEWHERE),
        (200, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    ),
    "logout": ((ELSEWHERE, 200, 200, 200), every(ELSEWHERE)),
    "account_logout": ((ELSEWHERE, 200, 200, 200), every(ELSEWHERE)),
    "account_inactive": (every(200), every(405)),
    "account_reauthenticate": (signed_in(200), signed_in(200)),
    "account_change_password": (signed_in(200), signed_in(200)),
    "mfa_index": (signed_in(200), signed_in(405)),
    "mfa_authenticate": (signed_in(ELSEWHERE), signed_in(ELSEWHERE)),
    # Mei has no second factor, so she confirms with her password instead.
    "mfa_reauthenticate": (signed_in(200, volunteer=REAUTH), signed_in(200, volunteer=REAUTH)),
    "mfa_activate_totp": (signed_in(REAUTH), signed_in(REAUTH)),
    "mfa_deactivate_totp": (signed_in(REAUTH, volunteer=404), signed_in(REAUTH, volunteer=404)),
    "mfa_view_recovery_codes": (signed_in(404), signed_in(405)),
    "mfa_generate_recovery_codes": (signed_in(REAUTH), signed_in(REAUTH)),
    "mfa_download_recovery_codes": (signed_in(404), signed_in(404)),
    "mfa_list_webauthn": (signed_in(200), signed_in(405)),
    "mfa_add_webauthn": (signed_in(REAUTH), signed_in(REAUTH)),
    "mfa_reauthenticate_webauthn": (signed_in(REAUTH), signed_in(REAUTH)),
    "mfa_remove_webauthn": (signed_in(REAUTH), signed_in(REAUTH)),
    "mfa_edit_webauthn": (signed_in(REAUTH), signed_in(REAUTH)),
    "set_language": (every(ELSEWHERE), every(ELSEWHERE)),
    "language": (every(404), every(405)),  # the sample names no language
    # The simulated phone network (demo and tests only): a caller's phone is open to
    # anyone, as callers have no accounts; a volunteer's phone only to its volunteer.
    "simulator:caller": (every(200), every(400)),
    "simulator:call": (every(404), every(405)),
    "simulator:call-panel": (every(404), every(405)),
    "simulator:press": (every(405), every(404)),
    "simulator:hang-up": (every(405), every(404)),
    "simulator:phone": (signed_in(200), signed_in(405)),
    "simulator:phone-answer": (every(405), every(404)),
    # Twilio's REST question about a call (simulator/rest.py): no such call here.
    "simulator:rest-call": (every(404), every(405)),
    # The admin: staff only, through the accounts' login with its second factor.
    "admin:index": (ADMIN_ONLY, ADMIN_ONLY),
    "admin:login": ((LOGIN, 403, 403, ELSEWHERE), (LOGIN, 403, 403, 200)),
    # Logging out of the admin needs no login; its page only takes POST.
    "admin:logout": ((ELSEWHERE, ELSEWHERE, ELSEWHERE, 405), every(ELSEWHERE)),
    "admin:password_change": (ADMIN_ONLY, ADMIN_ONLY),
    "admin:password_change_done": (ADMIN_ONLY, (*ADMIN_ONLY[:3], 405)),
    "admin:autocomplete": (ADMIN_ONLY, (*ADMIN_ONLY[:3], 405)),
    "admin:jsi18n": (ADMIN_ONLY, (*ADMIN_ONLY[:3], 405)),
    "admin:view_on_site": (ADMIN_ONLY, ADMIN_ONLY),
    "admin:app_list": (ADMIN_ONLY, ADMIN_ONLY),
    "admin/(?P<url>.*)": (ADMIN_ONLY, ADMIN_ONLY),
}


def expected_rows(endpoint: Endpoint) -> tuple[Row, Row] | None:
    if endpoint.key in MATRIX:
        return MATRIX[endpoint.key]
    # Every model page the admin registers (list, add, change, delete, history, and the
    # redirect from an object's bare URL) is the admin's, whatever the model.
    if endpoint.route.startswith("admin/") and endpoint.key.startswith(("admin:", "admin/")):
        parts = endpoint.route.split("/")
        if len(parts) >= 4 and parts[1] and parts[2] and not parts[1].startswith("("):
            return (ADMIN_ONLY, ADMIN_ONLY)
    return None


def answer_of(response: _MonkeyPatchedWSGIResponse) -> int | str:
    if 300 <= response.status_code < 400:
        path = urlsplit(response["Location"]).path
        return {
            reverse("login"): LOGIN,
            reverse("admin:login"): ADMIN_LOGIN,
            reverse("account_reauthenticate"): REAUTH,
        }.get(path, ELSEWHERE)
    return int(response.status_code)


def matches(answer: int | str, expected: Answer) -> bool:
    return answer in expected if isinstance(expected, frozenset) else answer == expected


def test_every_url_is_in_the_matrix() -> None:
    unlisted = [endpoint.key for endpoint in walk_urls() if expected_rows(endpoint) is None]
    assert unlisted == [], "Declare who may use these URLs in MATRIX"


def test_every_url_answers_each_persona_as_the_matrix_declares(
    mei: Volunteer, lin: Volunteer, ada: Volunteer, numbers: HotlineNumbers
) -> None:
    users = {"volunteer": mei.user, "coordinator": lin.user, "admin": ada.user}
    clients = {persona: Client(raise_request_exception=False) for persona in PERSONAS}
    wrong = []
    for endpoint in walk_urls():
        rows = expected_rows(endpoint)
        assert rows is not None, endpoint.key
        for method, row in zip(("GET", "POST"), rows, strict=True):
            for persona, expected in zip(PERSONAS, row, strict=True):
                client = clients[persona]
                if persona in users and "_auth_user_id" not in client.session:
                    client.force_login(users[persona])  # again, after the logout URLs
                response = client.generic(method, endpoint.url)
                answer = answer_of(response)
                if not matches(answer, expected):
                    wrong.append(f"{method} {endpoint.url} as {persona}: {answer}, not {expected}")
    assert wrong == [], "\n".join(wrong)


def test_a_volunteer_cannot_act_on_another_volunteers_call(
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    wing: Volunteer,
    lin: Volunteer,
) -> None:
    from tuidang.calls.models import Call
    from tuidang.telephony.simulator.engine import calls_for

    go_available(mei)
    caller = network.dial(from_number=CALLER, to_number=BANKNOTES_LINE)
    network.press(caller.sid, "1")
    leg = network.answer(calls_for("client:mei").get().sid)
    network.press(leg.sid, "1")
    call = Call.objects.get()
    assert call.volunteer == mei

    wing_client = Client()
    wing_client.force_login(wing.user)
    for name in ["record-declarations", "record-call", "hang-up", "transfer", "hand-over"]:
        url = reverse(f"desk:{name}", args=[call.pk])
        assert wing_client.post(url).status_code == 404, name
    assert wing_client.post(reverse("desk:books-request", args=[call.pk])).status_code == 404
    assert wing_client.post(reverse("desk:flag", args=[call.pk])).status_code == 404
    # Nor answer, press keys on or read Mei's phone.
    for name in ["press", "hang-up", "phone-answer"]:
        assert wing_client.post(reverse(f"simulator:{name}", args=[leg.sid])).status_code == 404
    assert Client().get(reverse("simulator:call-panel", args=[leg.sid])).status_code == 404

    # The coordinator may act on any call: the request reaches the form, which wants data.
    lin_client = Client()
    lin_client.force_login(lin.user)
    assert lin_client.post(reverse("desk:record-call", args=[call.pk])).status_code != 404
    assert Call.objects.get().state == Call.State.CONNECTED


def test_with_a_real_provider_the_simulated_network_is_not_served(
    settings: Settings,
) -> None:
    import importlib

    from django.urls import clear_url_caches

    from tuidang.config import urls

    settings.TELEPHONY_PROVIDER = "twilio"
    try:
        importlib.reload(urls)
        clear_url_caches()
        assert not [e.key for e in walk_urls() if e.key.startswith("simulator:")]
        assert Client().get("/sim/").status_code == 404
    finally:
        settings.TELEPHONY_PROVIDER = "simulated"
        importlib.reload(urls)
        clear_url_caches()
    assert Client().get("/sim/").status_code == 200
