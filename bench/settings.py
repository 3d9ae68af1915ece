"""The production settings, plus the baseline view the benchmarks compare against."""

from tuidang.config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# The baseline is served where the webhooks it is compared with are: by the telephony
# pool, on the port the proxy sends them to (`tuidang serve --telephony-port`).
TELEPHONY_POOL_PATHS = [*TELEPHONY_POOL_PATHS, "/bench/bare"]  # noqa: F405
