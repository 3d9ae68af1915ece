"""Settings for the test suite: the production settings with test-only choices on top."""

import os
from pathlib import Path


def _worker_number() -> int | None:
    """The suite runs in parallel processes (pytest-xdist: gw0, gw1, …); None in a run of
    one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def _worker_redis_url(url: str, worker: int) -> str:
    """Each worker empties its own Redis database before every test: the one the URL names
    for the first worker, the ones below it for the others (15, 14, …)."""
    base, _, database = url.rpartition("/")
    if not base or not database.isdigit() or int(database) < worker:
        raise ValueError(f"REDIS_URL must end in a database number of {worker} or more: {url}")
    return f"{base}/{int(database) - worker}"


# Before the settings read them: tests keep their own var/ and run tasks in-process.
os.environ.setdefault("VAR_DIR", str(Path.cwd() / "var" / "test"))
# Each worker of a parallel run has a folder of its own under it (its SQLite files, file
# cache and keys) and a Redis database of its own. Once per worker: the processes a test
# starts inherit both, and the worker's name, and must not move again.
_WORKER = _worker_number()
if _WORKER is not None and os.environ.get("TUIDANG_TEST_WORKER") != f"gw{_WORKER}":
    os.environ["TUIDANG_TEST_WORKER"] = f"gw{_WORKER}"
    os.environ["VAR_DIR"] = str(Path(os.environ["VAR_DIR"]) / f"gw{_WORKER}")
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _worker_redis_url(os.environ["REDIS_URL"], _WORKER)
os.environ["TASKS_BACKEND"] = "immediate"
os.environ.setdefault("TELEPHONY_PROVIDER", "simulated")

# After the environment above, which the settings read.
from tuidang.config.settings import *  # noqa: E402, F403

# Fast hashing: the suite creates many users; argon2 is tested on its own.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the apps through the finders; no collectstatic for tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A second database standing for a read replica (lib/tests/test_replica.py), created only
# for the tests that ask for it; READ_REPLICA stays off unless a test turns it on.
if "replica" not in DATABASES:  # noqa: F405
    DATABASES["replica"] = {  # noqa: F405
        **DATABASES["default"],  # noqa: F405
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}_replica"},  # noqa: F405
    }
READ_REPLICA = ""

# Test databases on SQLite live in files, not in shared memory: concurrency tests run many
# threads, and only file databases give each its own connection with real locking.
for _alias, _db in DATABASES.items():  # noqa: F405
    if _db["ENGINE"] == SQLITE_ENGINE:  # noqa: F405
        _db.update(TEST={"NAME": str(VAR_DIR / f"test-{_alias}.sqlite3")})  # type: ignore[attr-defined]  # noqa: F405

# Tests log in many times a second; the fleet's login budget is tested on its own
# (accounts/tests/test_login_budget.py), with the limit it sets.
LOGIN_HASHES_PER_SECOND = 10_000
