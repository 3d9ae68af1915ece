"""The fleet's budget of password hashing: a flood of failed logins from many addresses is
refused before it hashes, while a volunteer's own browser still gets in."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings as django_settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from tuidang.accounts import budget
from tuidang.accounts.budget import (
    DEVICE_COOKIE,
    DatabaseBudget,
    FileBudget,
    HashBudget,
    RedisBudget,
    device_cookie_admits,
    device_cookie_value,
    hash_budget,
)
from tuidang.accounts.models import LoginHashWindow
from tuidang.testing.logins import log_in
from tuidang.volunteers.models import Volunteer

MEI_AT_HOME = "198.51.100.7"
NOW = 1_800_000_000.0


def flood_address(n: int) -> str:
    return f"203.0.{n // 250}.{n % 250 + 1}"


def failures_counted(username: str, address: str) -> int:
    """The failed logins django-axes holds against ``username`` at ``address``."""
    request = RequestFactory().post(reverse("login"), REMOTE_ADDR=address)
    AxesProxyHandler.update_request(request)
    return int(AxesProxyHandler.get_failures(request, {"username": username}))


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the login hashes to check it (the test suite's hasher is MD5)."""
    checked: list[str] = []
    original = MD5PasswordHasher.verify

    def verify(self: MD5PasswordHasher, password: str, encoded: str) -> bool:
        checked.append(password)
        return original(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", verify)
    # Django hashes the password of a username that does not exist too (timing).
    original_encode = MD5PasswordHasher.encode

    def encode(self: MD5PasswordHasher, password: str, salt: str) -> str:
        checked.append(password)
        return original_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    return checked


@pytest.fixture(autouse=True)
def budget_file(settings: Settings, tmp_path: Path) -> Path:
    """A budget file of this test's own: the suite's var/ outlives a run."""
    settings.LOGIN_BUDGET_FILE = tmp_path / "login-budget"
    return settings.LOGIN_BUDGET_FILE  # type: ignore[no-any-return]


@pytest.fixture
def one_second(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Every attempt falls in the same second, whose budget is two hashes."""
    monkeypatch.setattr(budget, "clock", lambda: NOW)
    monkeypatch.setattr(budget, "_last_logged", 0)
    settings.LOGIN_HASHES_PER_SECOND = 2


def flood(attempts: int) -> list[int]:
    """Failed logins, each from its own address and browser, below every lockout."""
    return [
        log_in(Client(), f"name{n}", password="guess", address=flood_address(n)).status_code
        for n in range(attempts)
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("one_second")
def test_over_the_budget_a_login_is_refused_at_once_without_hashing(
    mei: Volunteer, hashes: list[str]
) -> None:
    assert flood(2) == [200, 200]  # wrong passwords, hashed and refused as usual
    hashes.clear()

    response = log_in(Client(), "mei", password="guess", address=flood_address(99))

    assert response.status_code == 429
    assert response["Retry-After"] == "2"
    assert "Too many people are logging in right now" in response.text
    assert 'value="mei"' in response.text  # the username typed is kept
    assert hashes == []
    # Not counted as a failure: the volunteer's own tries are not used up by the flood.
    assert failures_counted("mei", flood_address(99)) == 0
    assert failures_counted("name0", flood_address(0)) == 1  # a hashed failure is counted


@pytest.mark.django_db
@pytest.mark.usefixtures("one_second")
def test_the_budget_is_per_second(mei: Volunteer, monkeypatch: pytest.MonkeyPatch) -> None:
    flood(3)
    monkeypatch.setattr(budget, "clock", lambda: NOW + 1)
    assert log_in(Client(), "mei", address=MEI_AT_HOME).status_code == 302


@pytest.mark.django_db
def test_a_volunteers_own_browser_logs_in_during_a_flood(
    mei: Volunteer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    meis_browser = Client()
    assert log_in(meis_browser, "mei", address=MEI_AT_HOME).status_code == 302
    assert DEVICE_COOKIE in meis_browser.cookies
    meis_browser.post(reverse("logout"))

    monkeypatch.setattr(budget, "clock", lambda: NOW)
    settings.LOGIN_HASHES_PER_SECOND = 2
    assert flood(10)[2:] == [429] * 8

    # A new browser waits like everyone else; hers, which logged in before, does not.
    assert log_in(Client(), "mei", address=MEI_AT_HOME).status_code == 429
    assert log_in(meis_browser, "mei", address=MEI_AT_HOME).status_code == 302
    assert meis_browser.get(reverse("desk:desk")).status_code == 200


@pytest.mark.django_db
def test_the_device_cookie_is_given_after_the_second_factor(
    lin: Volunteer, settings: Settings
) -> None:
    from tuidang.testing.personas import totp_code

    browser = Client()
    response = log_in(browser, "lin", address=MEI_AT_HOME)
    assert response.status_code == 302
    assert DEVICE_COOKIE not in browser.cookies  # the password alone is not a login
    done = browser.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert done.status_code == 302
    assert device_cookie_admits(browser.cookies[DEVICE_COOKIE].value, "lin")


@pytest.mark.django_db
def test_a_device_cookie_opens_the_way_to_its_own_account_only(
    mei: Volunteer, wing: Volunteer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    meis_browser = Client()
    log_in(meis_browser, "mei", address=MEI_AT_HOME)
    meis_browser.post(reverse("logout"))

    monkeypatch.setattr(budget, "clock", lambda: NOW)
    settings.LOGIN_HASHES_PER_SECOND = 2
    flood(3)
    assert log_in(meis_browser, "wing", address=MEI_AT_HOME).status_code == 429


@pytest.mark.django_db
def test_the_lockout_per_account_and_address_still_holds_for_a_browser_with_the_cookie(
    mei: Volunteer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stolen = Client()
    log_in(stolen, "mei", address=MEI_AT_HOME)
    stolen.post(reverse("logout"))
    monkeypatch.setattr(budget, "clock", lambda: NOW)
    settings.LOGIN_HASHES_PER_SECOND = 2
    flood(3)

    attacker = "192.0.2.10"
    tries = [
        log_in(stolen, "mei", password="guess", address=attacker).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert tries[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # checked, past the budget
    locked = log_in(stolen, "mei", address=attacker)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text


@pytest.mark.django_db
@pytest.mark.usefixtures("one_second")
def test_a_refusal_is_logged_without_address_or_username(
    mei: Volunteer, caplog: pytest.LogCaptureFixture
) -> None:
    flood(2)
    with caplog.at_level(logging.INFO):
        log_in(Client(), "mei", password="guess", address=flood_address(77))
    assert "budget of 2 password hashes a second is spent" in caplog.text
    assert flood_address(77) not in caplog.text
    assert "mei" not in caplog.text


def test_a_tampered_or_expired_device_cookie_admits_nobody(settings: Settings) -> None:
    value = device_cookie_value("mei")
    assert device_cookie_admits(value, "mei")
    assert not device_cookie_admits(value[:-2] + "xx", "mei")
    assert not device_cookie_admits("", "mei")
    assert not device_cookie_admits("nonsense", "mei")
    settings.LOGIN_DEVICE_COOKIE_DAYS = 0
    assert not device_cookie_admits(value, "mei")  # older than zero days (max_age 0)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_a_device_cookie_admits_exactly_its_account(first: str, second: str) -> None:
    value = device_cookie_value(first)
    assert device_cookie_admits(value, first)
    assert device_cookie_admits(value, second) == (
        first.strip().casefold() == second.strip().casefold()
    )


BUDGETS = ["database", "file"] + (["redis"] if django_settings.REDIS_URL else [])


@pytest.fixture(params=BUDGETS)
def store(request: pytest.FixtureRequest, budget_file: Path) -> Iterator[HashBudget]:
    if request.param == "file":
        yield FileBudget(budget_file)
    elif request.param == "redis":
        redis_budget = RedisBudget(django_settings.REDIS_URL)
        redis_budget.redis.delete(*(redis_budget.key(int(NOW) + n) for n in range(3)))
        yield redis_budget
        redis_budget.redis.delete(*(redis_budget.key(int(NOW) + n) for n in range(3)))
    else:
        yield DatabaseBudget()


def in_thread(function: Callable[..., bool]) -> Callable[..., bool]:
    def run(*args: Any) -> bool:
        try:
            return function(*args)
        finally:
            connections.close_all()

    return run


@pytest.mark.django_db(transaction=True)
def test_racing_app_servers_never_spend_more_than_the_budget(store: HashBudget) -> None:
    """Threads with their own database connections race as app servers would."""
    limit = 5

    @in_thread
    def attempt(n: int) -> bool:
        return store.take(int(NOW) + n % 2, limit)

    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(attempt, range(80)))
    assert sum(taken) == 2 * limit  # two seconds, each spent to its limit exactly
    if isinstance(store, DatabaseBudget):
        assert sorted(LoginHashWindow.objects.values_list("used", flat=True)) == [limit, limit]


@pytest.mark.django_db
def test_old_seconds_are_forgotten_by_the_database() -> None:
    database = DatabaseBudget()
    assert database.take(int(NOW), 1)
    assert not database.take(int(NOW), 1)
    assert database.take(int(NOW) + 3600, 1)
    assert list(LoginHashWindow.objects.values_list("second", flat=True)) == [int(NOW) + 3600]


def test_the_budget_follows_the_configuration() -> None:
    if django_settings.REDIS_URL:
        expected: type[HashBudget] = RedisBudget
    elif connection.vendor == "sqlite":
        expected = FileBudget
    else:
        expected = DatabaseBudget
    assert isinstance(hash_budget(), expected)


@pytest.mark.django_db
@pytest.mark.usefixtures("one_second")
def test_on_sqlite_a_flood_writes_nothing_to_the_database_for_the_budget(
    mei: Volunteer, settings: Settings
) -> None:
    """SQLite has one writer, which the webhooks need: the flood's counting stays off it."""
    if connection.vendor != "sqlite" or settings.REDIS_URL:
        settings.REDIS_URL = ""  # the embedded store is what this is about
    with CaptureQueriesContext(connection) as queries:
        statuses = flood(6)
    assert statuses == [200, 200, 429, 429, 429, 429]
    budget_writes = [
        query["sql"]
        for query in queries.captured_queries
        if "loginhashwindow" in query["sql"].lower()
    ]
    if connection.vendor == "sqlite":
        assert budget_writes == []
        assert FileBudget(settings.LOGIN_BUDGET_FILE).spent() == {int(NOW): 2}
    else:  # PostgreSQL, many writers: its windows are the embedded store
        assert budget_writes


def _take_in_a_process(path: str, seconds: list[int], limit: int, results: Any) -> None:
    ring = FileBudget(path)
    results.put(sum(ring.take(second, limit) for second in seconds))


def test_racing_processes_never_spend_more_than_the_file_budget(budget_file: Path) -> None:
    """Processes, each opening the file itself, as a machine's app servers do."""
    context = multiprocessing.get_context("fork")  # each opens the file for each take
    results = context.Queue()
    seconds = [int(NOW) + n % 3 for n in range(60)]
    processes = [
        context.Process(target=_take_in_a_process, args=(str(budget_file), seconds, 7, results))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    taken = sum(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert taken == 3 * 7
    assert FileBudget(budget_file).spent() == {int(NOW): 7, int(NOW) + 1: 7, int(NOW) + 2: 7}


@given(
    attempts=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 6)), max_size=40),
    limit=st.integers(1, 5),
)
def test_the_file_budget_grants_each_second_its_limit_and_no_more(
    tmp_path_factory: pytest.TempPathFactory, attempts: list[tuple[int, int]], limit: int
) -> None:
    """Whatever the seconds asked for in a clock's order, each gets min(asked, limit)."""
    ring = FileBudget(tmp_path_factory.mktemp("ring") / "login-budget")
    asked: dict[int, int] = {}
    granted: dict[int, int] = {}
    for step, count in sorted(attempts):
        second = int(NOW) + step
        for _ in range(count):
            asked[second] = asked.get(second, 0) + 1
            granted[second] = granted.get(second, 0) + ring.take(second, limit)
    assert granted == {second: min(n, limit) for second, n in asked.items()}
    # A second the ring has moved past is refused, never counted again from zero.
    if asked:
        first, last = min(asked), max(asked)
        if last - first >= 60 and ring.spent().get(first) is None:
            assert not ring.take(first, limit)


@pytest.mark.django_db
@pytest.mark.usefixtures("one_second")
def test_posts_without_the_forms_csrf_token_take_nothing_from_the_budget(mei: Volunteer) -> None:
    forger = Client(enforce_csrf_checks=True)
    for n in range(5):
        assert (
            log_in(forger, f"name{n}", password="guess", address=flood_address(n)).status_code
            == 403
        )
    assert log_in(Client(), "mei", address=MEI_AT_HOME).status_code == 302
