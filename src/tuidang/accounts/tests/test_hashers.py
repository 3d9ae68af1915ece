"""Password hashes take a processor only when the webhooks leave one idle."""

from __future__ import annotations

import os
import threading
from typing import Any

import argon2
import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangosArgon2
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.accounts import hashers
from tuidang.testing.logins import log_in
from tuidang.testing.personas import PASSWORD
from tuidang.volunteers.models import Volunteer

ARGON2 = "tuidang.accounts.hashers.Argon2PasswordHasher"


def _policy() -> int:
    return os.sched_getscheduler(0)  # 0: the calling thread


@pytest.fixture
def scheduling_of_hashes(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The scheduling policy of the thread each argon2 hash ran on, in order."""
    settings.PASSWORD_HASHERS = [ARGON2]
    seen: list[int] = []
    original_verify = argon2.PasswordHasher.verify
    original_hash = argon2.low_level.hash_secret

    def verify(self: argon2.PasswordHasher, *args: Any) -> Any:
        seen.append(_policy())
        return original_verify(self, *args)

    def hash_secret(*args: Any, **kwargs: Any) -> bytes:
        seen.append(_policy())
        return original_hash(*args, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)
    monkeypatch.setattr(argon2.low_level, "hash_secret", hash_secret)
    return seen


@pytest.mark.django_db
def test_a_login_hashes_in_the_idle_class_while_its_request_keeps_its_own(
    mei: Volunteer, scheduling_of_hashes: list[int]
) -> None:
    mei.user.set_password(PASSWORD)  # hashed again, with argon2
    mei.user.save()
    request_policy = _policy()

    assert log_in(Client(), "mei", password="wrong guess").status_code == 200
    assert log_in(Client(), "nobody-by-this-name", password="guess").status_code == 200
    assert log_in(Client(), "mei").status_code == 302

    # Her password set, a wrong one checked, a name that does not exist hashed for its
    # timing, her right one checked: each on an idle-class thread.
    assert scheduling_of_hashes == [os.SCHED_IDLE] * 4
    assert _policy() == request_policy == os.SCHED_OTHER


def test_passwords_hashed_before_still_check(settings: Settings) -> None:
    """Accounts whose hash Django's own argon2 hasher made log in as before, and back."""
    settings.PASSWORD_HASHERS = [ARGON2]
    before = DjangosArgon2().encode("a long passphrase", DjangosArgon2().salt())
    assert check_password("a long passphrase", before)
    assert not check_password("another passphrase", before)
    after = make_password("a long passphrase")
    assert after.startswith("argon2$argon2id$")
    assert DjangosArgon2().verify("a long passphrase", after)


def test_where_the_idle_class_is_refused_hashes_take_the_highest_niceness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: Any) -> None:
        raise PermissionError("not allowed here")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    seen: list[tuple[str, int, int]] = []

    def thread() -> None:  # a thread of its own: its niceness cannot be lowered again
        got = hashers.at_idle_priority()
        niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen.append((got, niceness, _policy()))

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    assert seen == [("niceness 19", 19, os.SCHED_OTHER)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != 19  # only that one


def test_a_failing_hash_reaches_the_caller_as_it_would_have() -> None:
    def broken() -> None:
        raise ValueError("bad encoded hash")

    with pytest.raises(ValueError, match="bad encoded hash"):
        hashers.in_hashing_thread(broken)


@pytest.mark.django_db
def test_a_hash_takes_one_lane_and_an_older_one_is_made_again_at_the_next_login(
    mei: Volunteer, settings: Settings
) -> None:
    """One core for each hash, at Django's memory and time cost; an account hashed with
    Django's eight lanes gets one at its next successful login."""
    settings.PASSWORD_HASHERS = [ARGON2]
    django = DjangosArgon2()
    made = django.decode(make_password("a long passphrase"))
    assert (made["parallelism"], made["memory_cost"], made["time_cost"]) == (
        1,
        django.memory_cost,
        django.time_cost,
    )

    mei.user.password = django.encode(PASSWORD, django.salt())
    mei.user.save()
    assert log_in(Client(), "mei").status_code == 302
    mei.user.refresh_from_db()
    assert django.decode(mei.user.password)["parallelism"] == 1
