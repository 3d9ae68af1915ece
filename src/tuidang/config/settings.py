"""Settings for Tuidang Hotline, read from the environment (see docs/configuration.md).

With no environment at all this is the demo without a phone line: SQLite in WAL mode under
``var/``, secrets generated into ``var/secrets/``, and no telephony provider until one is
chosen (``make demo`` chooses the simulated phone network: TELEPHONY_PROVIDER=simulated).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tuidang.config.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    generated_secrets,
)
from tuidang.lib.logcontext import logging_config

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("TUIDANG_HOME", str(Path.cwd())))
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
SECRETS_DIR = VAR_DIR / "secrets"

DEBUG = env_bool("DEBUG", False)
# The demo generates its secrets; a production deployment sets every one of them.
_generate = SECRETS_DIR if env_bool("GENERATE_SECRETS", True) else None
SECRET_KEY = env_secret("SECRET_KEY", generated_into=_generate, nbytes=48)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    # Before allauth, so that its templates (login, second factor) replace allauth's.
    "tuidang.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "tuidang.lib",
    "tuidang.vault",
    "tuidang.jobs",
    "tuidang.volunteers",
    "tuidang.calls",
    "tuidang.screening",
    "tuidang.shifts",
    "tuidang.declarations",
    "tuidang.literature",
    "tuidang.reports",
    "tuidang.tlog",
    "tuidang.witness",
    "tuidang.telephony",
    "tuidang.telephony.simulator",
    "tuidang.public",
    "tuidang.desk",
    "tuidang.audit",
    "tuidang.demo",
]

MIDDLEWARE = [
    # Outermost: every answer is sent in one piece (see its docstring).
    "tuidang.lib.middleware.ContentLengthMiddleware",
    # Each request's id, for its log lines and its X-Request-ID header.
    "tuidang.lib.logcontext.RequestIdMiddleware",
    # First: the telephony pool answers nothing but the webhooks (SERVE_ONLY_PATHS).
    "tuidang.lib.middleware.OnlyThesePathsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The desk's poll, answered 204 with no body when nothing changed (desk/poll.py): its
    # signed token stands for the session and the login; no policy to build for no page.
    "tuidang.desk.poll.DeskPollMiddleware",
    # Above WhiteNoise, which answers static files without calling the rest: the policy
    # and cache headers cover every response (see "HTTP" below).
    "csp.middleware.CSPMiddleware",
    "tuidang.lib.middleware.NoStoreForPeopleMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Volunteers see times in their own zone (their profile), not the server's.
    "tuidang.volunteers.middleware.VolunteerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Before any login form hashes a password: the fleet's budget (accounts/budget.py).
    "tuidang.accounts.middleware.LoginBudgetMiddleware",
    "tuidang.accounts.middleware.SessionExpiryMiddleware",
    "tuidang.accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a lockout flagged during the login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tuidang.config.urls"
WSGI_APPLICATION = "tuidang.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tuidang.lib.context_processors.site",
            ],
        },
    },
]

# --- Storage --------------------------------------------------------------------------
# SQLite in WAL mode is the embedded default; DATABASE_URL switches to PostgreSQL.
# IMMEDIATE transactions make SQLite take its write lock at BEGIN, so two writers queue
# instead of one failing with "database is locked" when it upgrades a read lock.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tuidang.sqlite3'}")
# A served request reuses its thread's connection (checked before reuse) rather than
# opening one: a new PostgreSQL connection costs more than a webhook's whole work.
_default_db = dj_database_url.parse(
    DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True
)
# The password may come apart from the URL, as a secret (DATABASE_PASSWORD_FILE).
if env_str("DATABASE_PASSWORD") or env_str("DATABASE_PASSWORD_FILE"):
    _default_db["PASSWORD"] = env_secret("DATABASE_PASSWORD")
# Our SQLite backend queues a process's writers on a lock of its own (lib/sqlite/base.py).
SQLITE_ENGINE = "tuidang.lib.sqlite"
if _default_db["ENGINE"] == "django.db.backends.sqlite3":
    _default_db["ENGINE"] = SQLITE_ENGINE
    _default_db["OPTIONS"] = dict(_SQLITE_OPTIONS)
DATABASES = {
    "default": _default_db,
    # The simulated phone network plays the provider, which knows callers' numbers; it
    # keeps its state in a database of its own so the hotline's database never holds them.
    "phone_network": {
        "ENGINE": SQLITE_ENGINE,
        # Nodes of a fleet with a VAR_DIR each share one network: name its file.
        "NAME": env_str("PHONE_NETWORK_DATABASE", str(VAR_DIR / "phone-network.sqlite3")),
        "OPTIONS": dict(_SQLITE_OPTIONS),
    },
}
# A read replica of PostgreSQL for the read-only public pages (lib/replica.py): the total,
# the log's checkpoint, tiles and proofs, a receipt's check. Empty: they read the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
READ_REPLICA = ""
if DATABASE_REPLICA_URL:
    _replica_db = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
    if env_str("DATABASE_REPLICA_PASSWORD") or env_str("DATABASE_REPLICA_PASSWORD_FILE"):
        _replica_db["PASSWORD"] = env_secret("DATABASE_REPLICA_PASSWORD")
    DATABASES["replica"] = _replica_db
    READ_REPLICA = "replica"
DATABASE_ROUTERS = [
    "tuidang.telephony.simulator.routers.PhoneNetworkRouter",  # first: its own database
    "tuidang.lib.replica.ReplicaRouter",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every process of the hotline reads the same cache: the desk's poll versions
# (desk/poll.py) are bumped by a webhook in the telephony pool and read by the pool for
# people, and a coordinator's change to a number reaches the webhooks. In Redis with
# REDIS_URL (every app server); else in diskcache's SQLite files under var/cache, shared
# by every process of the one machine serving SQLite, apart from the hotline's database
# (a process's own memory would keep a desk on "nothing changed" while a caller waits).
REDIS_URL = env_str("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "tuidang.lib.filecache.FileCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Background tasks -----------------------------------------------------------------
# The database backend is the embedded queue: `tuidang worker` runs its jobs, and
# `tuidang serve` starts one beside the web server. TASKS_BACKEND=immediate runs each
# task in the process that enqueued it (tests, single-process debugging).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[env_str("TASKS_BACKEND", "database")]}}

# --- Accounts -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    # argon2 with Django's parameters, hashing in the idle scheduling class (accounts/hashers.py).
    "tuidang.accounts.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:desk"
LOGOUT_REDIRECT_URL = "public:home"
# A login ends this many seconds after it began, and after SESSION_IDLE_TIMEOUT seconds
# without the person doing anything (accounts/middleware.py); the cookie dies with the
# browser.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt while its (username, address) or address is locked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# django-allauth: username and password, then a second factor where the account has one.
# No signup, no email (accounts are made by administrators), no "remember me".
ACCOUNT_ADAPTER = "tuidang.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# TOTP (with recovery codes) and security keys; no passkey-only login, no "trust this
# browser": every login asks for the second factor.
MFA_ADAPTER = "tuidang.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TRUST_ENABLED = False
# allauth's forms, refusing a TOTP code already used by any app server (accounts/forms.py).
MFA_FORMS = {
    "authenticate": "tuidang.accounts.forms.AuthenticateForm",
    "reauthenticate": "tuidang.accounts.forms.ReauthenticateForm",
}
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Tuidang Hotline")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("WEBAUTHN_ALLOW_INSECURE_ORIGIN", DEBUG)
# Coordinators and administrators always need a second factor; this extends it to every
# volunteer (accounts/policy.py).
MFA_REQUIRED_FOR_VOLUNTEERS = env_bool("MFA_REQUIRED_FOR_VOLUNTEERS", False)
# django-axes: lock a (username, address) pair after LOGIN_FAILURE_LIMIT failures and an
# address after LOGIN_ADDRESS_FAILURE_LIMIT, for LOGIN_COOLOFF_MINUTES; never a username
# alone, which would let anyone lock a volunteer out by name (accounts/lockout.py).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Case codes a volunteer may look up in a minute (calls/services/cases.py), counted in the
# audit log so the limit holds across app servers.
CASE_LOOKUPS_PER_MINUTE = env_int("CASE_LOOKUPS_PER_MINUTE", 20)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Counted in the cache, never in the database (accounts/lockout.py): there is no list of
# attempts for the admin to show; `tuidang axes_reset_ip` unlocks an address.
AXES_HANDLER = "tuidang.accounts.lockout.PairAndAddressHandler"
AXES_ENABLE_ADMIN = False
AXES_CLIENT_IP_CALLABLE = "tuidang.accounts.lockout.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tuidang.accounts.lockout.lockout_response"
# A log of every successful login with its address would tell whoever seizes the server
# where the volunteers are; failed attempts go at the first login after the cool-off.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login"]
# Passwords hashed for logins per second across every app server (accounts/budget.py):
# past it a login is refused (429) without hashing, unless the browser carries the
# account's device cookie, given at a successful login and good for
# LOGIN_DEVICE_COOKIE_DAYS. One a second is 3,600 logins an hour, many times a shift change
# of the whole team; each more a second lets a flood spend another fifth of a core
# (docs/benchmarks.md, "A failed-login flood beside the night").
LOGIN_HASHES_PER_SECOND = env_int("LOGIN_HASHES_PER_SECOND", 1)
LOGIN_DEVICE_COOKIE_DAYS = env_int("LOGIN_DEVICE_COOKIE_DAYS", 90)
# Where the budget is counted on SQLite without Redis: a file of its own, never the
# database, whose one writer the webhooks need.
LOGIN_BUDGET_FILE = VAR_DIR / "login-budget"
# A login refused for now (over the budget, or locked out) is answered after this wait,
# on one of LOGIN_TARPIT_SLOTS threads per process of the pool for people kept for
# waiting: a flood's client gets one guess per wait (accounts/tarpit.py).
LOGIN_TARPIT_MS = env_int("LOGIN_TARPIT_MS", 1000)
LOGIN_TARPIT_SLOTS = env_int("LOGIN_TARPIT_SLOTS", 8)
# How many proxies append to X-Forwarded-For in front of the app (one TLS proxy, when
# BEHIND_TLS_PROXY is set). The client's address is read from that header only then.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0
)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    # Made from zh-hans: `tuidang hant_messages` (lib/chinese.py).
    ("zh-hant", _("Traditional Chinese")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Declarations are dated in the hotline's own time zone ("today" on the public page).
HOTLINE_TIME_ZONE = env_str("HOTLINE_TIME_ZONE", "Asia/Shanghai")
# The same caller key, alias and organizations within this many days is a duplicate.
DUPLICATE_WINDOW_DAYS = env_int("DUPLICATE_WINDOW_DAYS", 30)
# Declarations and revocations become public in batches, this many seconds apart (on
# multiples of it: hourly, on the hour), shuffled: the log's growth says nothing finer of
# when one was recorded (docs/transparency-log.md "Publication in batches").
PUBLICATION_INTERVAL_SECONDS = env_int("PUBLICATION_INTERVAL_SECONDS", 3600)
# Shifts: their slots for the weeks ahead are written this often; starts and ends of
# shifts (asking volunteers to go available, setting them away) are acted on this often.
SHIFT_SLOTS_INTERVAL_SECONDS = env_int("SHIFT_SLOTS_INTERVAL_SECONDS", 3600)
SHIFT_CHANGES_INTERVAL_SECONDS = env_int("SHIFT_CHANGES_INTERVAL_SECONDS", 60)

# --- Declaring online -------------------------------------------------------------------
# The web form's flood defence (screening/web.py): forms one address (by its keyed hash)
# may post an hour, and all addresses together a minute before the form is in flood mode,
# where each address may post fewer, the proof of work is harder and statements are held.
ONLINE_PER_ADDRESS_HOUR = env_int("ONLINE_PER_ADDRESS_HOUR", 12)
ONLINE_PER_ADDRESS_HOUR_IN_FLOOD = env_int("ONLINE_PER_ADDRESS_HOUR_IN_FLOOD", 3)
ONLINE_FLOOD_PER_MINUTE = env_int("ONLINE_FLOOD_PER_MINUTE", 60)
# The proof of work (ALTCHA): the largest number a browser may have to try.
ONLINE_WORK = env_int("ONLINE_WORK", 20_000)
ONLINE_WORK_IN_FLOOD = env_int("ONLINE_WORK_IN_FLOOD", 200_000)
# Without JavaScript (no proof of work), a form is accepted this many seconds after it
# was served, and its statement is held.
ONLINE_NO_SCRIPT_DELAY_SECONDS = env_int("ONLINE_NO_SCRIPT_DELAY_SECONDS", 8)
# A form is good for this long; its token is kept this long against a second post.
ONLINE_FORM_HOURS = env_int("ONLINE_FORM_HOURS", 24)
# The reports' counts are rebuilt, and volunteers' presence sampled, this often
# (docs/reports.md).
REPORTS_INTERVAL_SECONDS = env_int("REPORTS_INTERVAL_SECONDS", 60)

# Uploads (recorded prompts). Served to the provider by a view of their own, not as /media/.
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "static/"
# Collected static files; the container image collects them at build time, outside VAR_DIR.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Recordings and uploaded prompts go where every node reads them (lib/storage.py,
# docs/deployment.md): "database" (a table of files, the default), "s3" (an S3-compatible
# store through django-storages) or "files" (under VAR_DIR: one machine only).
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "database")
if STORAGE_BACKEND == "database":
    _media = {"BACKEND": "tuidang.lib.storage.DatabaseStorage", "OPTIONS": {}}
    _recordings = {
        "BACKEND": "tuidang.lib.storage.DatabaseStorage",
        "OPTIONS": {"area": "recordings", "overwrite": True},
    }
elif STORAGE_BACKEND == "s3":
    # Private objects: prompts are served by the hotline's own view, recordings sealed.
    if not env_str("S3_BUCKET"):
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET")
    _s3 = {
        "bucket_name": env_str("S3_BUCKET"),
        "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
        "region_name": env_str("S3_REGION") or None,
        "access_key": env_secret("S3_ACCESS_KEY_ID"),
        "secret_key": env_secret("S3_SECRET_ACCESS_KEY"),
        "default_acl": "private",
        "querystring_auth": True,
    }
    _media = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "media", "file_overwrite": False},
    }
    _recordings = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "recordings", "file_overwrite": True},
    }
elif STORAGE_BACKEND == "files":
    _media = {
        "BACKEND": "tuidang.lib.storage.PrivateFileStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
    _recordings = {
        "BACKEND": "tuidang.lib.storage.PrivateFileStorage",
        "OPTIONS": {"location": str(VAR_DIR / "recordings"), "overwrite": True},
    }
else:
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be database, s3 or files, not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _media,
    "recordings": _recordings,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Privacy --------------------------------------------------------------------------
# The pepper turns a caller's number into a caller key. It lives outside the database:
# whoever holds a database dump without it cannot test a guessed number against the keys.
CALLER_KEY_PEPPER = env_secret("CALLER_KEY_PEPPER", generated_into=_generate)
# The web form's rate limits key on an HMAC of the address under this secret, and its
# proof-of-work challenges are signed with a key derived from it (screening/web.py).
WEB_ADDRESS_PEPPER = env_secret("WEB_ADDRESS_PEPPER", generated_into=_generate)
# Identifying free text is sealed under random data keys kept in the database wrapped by
# this key-encryption key, which never enters the database or a backup (vault/keys.py).
FIELD_KEK = env_secret("FIELD_KEK", generated_into=_generate)
# How long a process trusts its copy of the key table; `rotate-keys` waits this long
# before it deletes an old key, so that every process has moved to the new one.
FIELD_KEY_CACHE_SECONDS = env_int("FIELD_KEY_CACHE_SECONDS", 30)
# Before versioned keys, one key derived from FIELD_ENCRYPTION_KEY sealed everything. If
# it is still configured, it becomes data key 1 on first use, so those values keep
# opening; after the first `rotate-keys` it can be removed. New installations have none.
FIELD_ENCRYPTION_KEY_LEGACY = (
    env_secret("FIELD_ENCRYPTION_KEY", generated_into=SECRETS_DIR)
    if env_str("FIELD_ENCRYPTION_KEY")
    or env_str("FIELD_ENCRYPTION_KEY_FILE")
    or (SECRETS_DIR / "field_encryption_key").exists()
    else ""
)
# Backups (`tuidang backup`) are encrypted under this key, kept apart from the backups.
BACKUP_KEY = env_secret("BACKUP_KEY", generated_into=_generate)
# How many days each kind of data is kept; `tuidang purge` and the worker's hourly run
# delete or anonymise what is older (jobs/retention.py, docs/security.md "Retention").
RETENTION_CALL_DAYS = env_int("RETENTION_CALL_DAYS", 365)
RETENTION_NOTE_DAYS = env_int("RETENTION_NOTE_DAYS", 180)
RETENTION_RECORDING_DAYS = env_int("RETENTION_RECORDING_DAYS", 30)
RETENTION_ADDRESS_DAYS = env_int("RETENTION_ADDRESS_DAYS", 90)
# The declaration form's tokens (a second post of a form records nothing) and the rate
# limits' counts by keyed address, if any outlived their hour.
RETENTION_ONLINE_FORM_DAYS = env_int("RETENTION_ONLINE_FORM_DAYS", 1)
RETENTION_INTERVAL_SECONDS = env_int("RETENTION_INTERVAL_SECONDS", 3600)
# How many trailing digits of a caller's number a volunteer may see.
CALLER_VISIBLE_DIGITS = env_int("CALLER_VISIBLE_DIGITS", 2)

# --- Transparency log ---------------------------------------------------------------
# The log's name in its checkpoints, and the secret its Ed25519 signing key derives from.
TLOG_ORIGIN = env_str("TLOG_ORIGIN", "tuidang-hotline.example/log")
TLOG_SIGNING_KEY = env_secret("TLOG_SIGNING_KEY", generated_into=_generate)
# Witnesses asked to cosign each checkpoint (C2SP tlog-witness), separated by ";" or new
# lines, each "<witness verifier key> <URL prefix of its add-checkpoint>"; and how many of
# them must cosign a checkpoint for the site to call it witnessed (0: all of them).
TLOG_WITNESSES = env_str("TLOG_WITNESSES", "")
TLOG_WITNESS_QUORUM = env_int("TLOG_WITNESS_QUORUM", 0)
# /readyz fails when entries have waited longer than this for a signed checkpoint.
TLOG_CHECKPOINT_LAG_SECONDS = env_int("TLOG_CHECKPOINT_LAG_SECONDS", 300)
# Workers look this often (and when they start) for entries no checkpoint covers, and
# sign one: a crash between an append and its sign request leaves none behind for long.
TLOG_CATCH_UP_INTERVAL_SECONDS = env_int("TLOG_CATCH_UP_INTERVAL_SECONDS", 60)

# /metrics answers only a scrape with "Authorization: Bearer <METRICS_TOKEN>"; 404 unset.
METRICS_TOKEN = (
    env_secret("METRICS_TOKEN") if env_str("METRICS_TOKEN") or env_str("METRICS_TOKEN_FILE") else ""
)
# /readyz fails when no worker has said it is alive for this long (they beat every
# second; one stopped with SIGTERM says so at once).
WORKER_SEEN_WITHIN_SECONDS = env_int("WORKER_SEEN_WITHIN_SECONDS", 2)
# A task still running when its worker has been silent this long is run again by
# another worker (jobs/heartbeat.py); every task is safe to run twice.
TASKS_ORPHANED_AFTER_SECONDS = env_int("TASKS_ORPHANED_AFTER_SECONDS", 10)

# --- Telephony ------------------------------------------------------------------------
# "simulated" drives the project's own phone network; "twilio" and "telnyx" real ones. The
# calls domain loads the provider's class from TELEPHONY_PROVIDER_CLASS (calls/ports.py):
# a name below, or the dotted path of any class implementing calls.ports.VoiceProvider.
# There is no default: the simulated network, which signs webhooks with the real token for
# any number typed at /sim/, runs only where someone chose it (the demo, the tests).
TELEPHONY_PROVIDERS = {
    "simulated": "tuidang.telephony.simulator.provider.SimulatedProvider",
    "twilio": "tuidang.telephony.twilio.client.TwilioProvider",
    "telnyx": "tuidang.telephony.telnyx.client.TelnyxProvider",
}
TELEPHONY_PROVIDER = env_str("TELEPHONY_PROVIDER", "")
TELEPHONY_PROVIDER_CLASS = TELEPHONY_PROVIDERS.get(TELEPHONY_PROVIDER, TELEPHONY_PROVIDER)
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN", generated_into=_generate, nbytes=24)


def _telnyx_secret(name: str) -> str:
    """A Telnyx secret: required when Telnyx is the provider, else read only if given."""
    if TELEPHONY_PROVIDER == "telnyx" or env_str(name) or env_str(f"{name}_FILE"):
        return env_secret(name)
    return ""


def _ed25519_public_key(seed: str) -> str:
    """The public key (base64) of the Ed25519 key whose seed is ``seed`` (base64url)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key()
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


# Telnyx TeXML: the account and TeXML application calls are placed from, the API key
# (bearer token), and the account's Ed25519 public key (base64) that checks its webhooks.
TELNYX_ACCOUNT_SID = env_str("TELNYX_ACCOUNT_SID")
TELNYX_APPLICATION_SID = env_str("TELNYX_APPLICATION_SID")
TELNYX_API_KEY = _telnyx_secret("TELNYX_API_KEY")
TELNYX_PUBLIC_KEY = _telnyx_secret("TELNYX_PUBLIC_KEY")
# The simulated network signs as Telnyx with a key pair of its own, for the demo and the
# tests: its private key (base64url of a 32-byte Ed25519 seed) generated into var/secrets/,
# and, unless TELNYX_PUBLIC_KEY names another, the public half checks the webhooks.
SIMULATOR_TELNYX_SIGNING_KEY = ""
if TELEPHONY_PROVIDER == "simulated" and _generate is not None:
    SIMULATOR_TELNYX_SIGNING_KEY = env_secret(
        "SIMULATOR_TELNYX_SIGNING_KEY", generated_into=_generate
    )
    if not TELNYX_PUBLIC_KEY:
        TELNYX_PUBLIC_KEY = _ed25519_public_key(SIMULATOR_TELNYX_SIGNING_KEY)
# Whose webhooks the simulated network calls, signed that provider's way: "twilio"
# (TwiML, an HMAC signature) or "telnyx" (TeXML, an Ed25519 signature). The demo shows
# the second with SIMULATOR_DIALECT=telnyx make demo.
SIMULATOR_DIALECT = env_str("SIMULATOR_DIALECT", "twilio")
if SIMULATOR_DIALECT not in ("twilio", "telnyx"):
    raise ImproperlyConfigured(
        f"SIMULATOR_DIALECT must be twilio or telnyx, not {SIMULATOR_DIALECT!r}"
    )
# How the simulated network delivers webhooks: "in-process" (through Django's request
# stack in the process that rings, the default) or "http" (to PUBLIC_BASE_URL, as a
# provider does; the fleet test sends them through its proxy this way).
SIMULATOR_TRANSPORT = env_str("SIMULATOR_TRANSPORT", "in-process")
if SIMULATOR_TRANSPORT not in ("in-process", "http"):
    raise ImproperlyConfigured(
        f"SIMULATOR_TRANSPORT must be in-process or http, not {SIMULATOR_TRANSPORT!r}"
    )
# The base URL the provider calls, when the app sits behind a proxy that rewrites the
# host or scheme. Twilio signs the URL it called, so validation must use that one.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "").rstrip("/")
# `tuidang serve` answers these paths in a pool of their own, on TELEPHONY_PORT, which the
# proxy sends them to: logins and pages cannot take its threads (lib/.../serve.py).
TELEPHONY_POOL_PATHS = ["/telephony/"]
# The paths this process answers, all others 404; `serve` sets it for the telephony pool.
SERVE_ONLY_PATHS = env_list("SERVE_ONLY_PATHS", [])
# The telephony pool answers the provider's webhooks and the load balancer's probes, and
# nothing a person uses: no session, CSRF token, login, language or page policy to read
# or set. Its requests skip that middleware: a quarter of a webhook's processor time
# (docs/benchmarks.md).
TELEPHONY_MIDDLEWARE = [
    "tuidang.lib.middleware.ContentLengthMiddleware",
    "tuidang.lib.logcontext.RequestIdMiddleware",
    "tuidang.lib.middleware.OnlyThesePathsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # allauth refuses to start without it; it does nothing for a webhook.
    "allauth.account.middleware.AccountMiddleware",
]
if SERVE_ONLY_PATHS:
    MIDDLEWARE = TELEPHONY_MIDDLEWARE
    # The admin, the logins and every form answer 404 here (OnlyThesePathsMiddleware);
    # every webhook checks the provider's signature instead (telephony/twiml/views.py).
    SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
    SILENCED_SYSTEM_CHECKS += ["axes.W002", "security.W003"]
# The threads of this process let into the application at once, the others kept for
# refused logins to wait on (accounts/tarpit.py); `serve` sets it for the pool for people.
# 0: every thread works, and refused logins are answered at once.
SERVE_WORKING_THREADS = env_int("SERVE_WORKING_THREADS", 0)
OFFER_TIMEOUT_SECONDS = env_int("OFFER_TIMEOUT_SECONDS", 20)
# Workers look this often for calls, offers and volunteers whose status callback never
# came, and settle those that have been open at least RECONCILE_AFTER_SECONDS by asking
# the provider where their legs stand (calls/services/reconcile.py).
RECONCILE_INTERVAL_SECONDS = env_int("RECONCILE_INTERVAL_SECONDS", 30)
RECONCILE_AFTER_SECONDS = env_int("RECONCILE_AFTER_SECONDS", 60)
# A call whose webhooks showed it alive this recently (a caller on hold fetches the wait
# URL again and again) is not asked about: a busy night sends few requests to the provider.
RECONCILE_QUIET_SECONDS = env_int("RECONCILE_QUIET_SECONDS", 180)
# After a call, a volunteer has this long to record it before routing offers them the next.
WRAP_UP_SECONDS = env_int("WRAP_UP_SECONDS", 120)
# The longest voicemail a caller can leave.
VOICEMAIL_MAX_SECONDS = env_int("VOICEMAIL_MAX_SECONDS", 180)

# --- HTTP -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A production deployment is served over TLS: behind a proxy that terminates it, or at an
# https:// public address. Then plain HTTP is redirected, cookies are secure and browsers
# are told (HSTS) never to use plain HTTP for this host again. docs/configuration.md.
_BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SERVED_OVER_TLS = not DEBUG and (_BEHIND_TLS_PROXY or PUBLIC_BASE_URL.startswith("https://"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _BEHIND_TLS_PROXY else None
# Only the proxy's X-Forwarded-Proto tells which requests came over TLS: without it, a
# redirect would send every request back to itself (lib/checks.py says so at deploy).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SERVED_OVER_TLS and _BEHIND_TLS_PROXY)
# The probes and Prometheus reach each app server directly over plain HTTP, inside the
# fleet's network: not redirected (the proxy refuses /metrics from outside).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SERVED_OVER_TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SERVED_OVER_TLS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Content Security Policy (django-csp): scripts, styles and everything else only from
# this origin, as files; no inline script, style or event handler anywhere, no eval
# (htmx runs with allowEval off, see base.html), no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Logging --------------------------------------------------------------------------
# Log lines never carry a caller's number: webhook views only log caller keys.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "json": one JSON object a line, with the request's and the call's ids (lib/logcontext.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
try:
    LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
except ValueError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
# `tuidang serve`'s line a request (method, path, status, time). Behind the proxy, which
# logs the same line (deploy/haproxy/haproxy.cfg), the deployments turn it off: written on
# the thread that answered, it cost a webhook 6 to 8% of its throughput (docs/benchmarks.md).
ACCESS_LOG = env_bool("ACCESS_LOG", True)

# Which secrets came from var/secrets/ rather than the environment: `check --deploy`
# names them (lib/checks.py). Last, after every secret has been read.
GENERATED_SECRETS = generated_secrets()
