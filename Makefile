# Tuidang Hotline: every developer command in one place.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export PORT

.PHONY: demo test test-sqlite test-postgres lint audit-deps fmt browser deploy-tools fleet-tools install migrate bench messages messages-hant clean

## Install pinned dependencies into .venv (again only when pyproject.toml changes).
install: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Debian's Chromium for the browser tests (a test tool's own browser download fails here).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "The browser tests need Debian's chromium: apt-get install chromium" >&2; exit 1; fi

## Debian's HAProxy and systemd-analyze, which check the files in deploy/ (lib/tests/test_deploy_files.py).
deploy-tools:
	@if [ -x /usr/sbin/haproxy ] && command -v systemd-analyze >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy systemd >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy systemd >/dev/null; \
	else echo "The deployment tests need Debian's haproxy and systemd: apt-get install haproxy systemd" >&2; exit 1; fi

## What the fleet's fault test starts beside the hotline: Debian's HAProxy, Redis and
## PostgreSQL's initdb and pg_ctl (testing/fleet.py).
fleet-tools:
	@missing=""; command -v haproxy >/dev/null || missing="$$missing haproxy"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v initdb >/dev/null && command -v pg_ctl >/dev/null || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "The fleet's fault test needs:$$missing (apt-get install$$missing)" >&2; exit 1; fi

migrate: install
	$(BIN)/tuidang migrate --noinput
	$(BIN)/tuidang migrate --noinput --database phone_network

## Run the hotline with demo data on the embedded SQLite, at http://127.0.0.1:$(PORT)
## (declarations published every $(DEMO_PUBLICATION_INTERVAL) s instead of hourly).
## The simulated phone network is chosen here, explicitly: it is never a default.
DEMO_PUBLICATION_INTERVAL ?= 20
demo: export TELEPHONY_PROVIDER = simulated
## Two local witnesses (keys and databases under var/witnesses/) cosign its checkpoints.
demo: migrate
	$(BIN)/tuidang collectstatic --noinput --verbosity 0
	$(BIN)/tuidang demo_data
	$(BIN)/tuidang storage-import
	export TLOG_WITNESSES="$$($(BIN)/tuidang demo_witnesses --config)"; \
	$(BIN)/tuidang demo_witnesses & witnesses=$$!; \
	trap 'kill $$witnesses 2>/dev/null' EXIT INT TERM; \
	PUBLICATION_INTERVAL_SECONDS=$(DEMO_PUBLICATION_INTERVAL) $(BIN)/tuidang serve --port $(PORT)

## Every test: lint, the suite on the embedded SQLite, and again on PostgreSQL (with Redis
## when REDIS_URL is set) when DATABASE_URL names one.
test: install browser deploy-tools fleet-tools lint test-sqlite
	@if [ -n "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "DATABASE_URL is not set: the PostgreSQL run is skipped."; fi

## The suite runs in one process per core (pytest-xdist), each file's tests in one of them;
## `make test TEST_WORKERS=0` runs it in this process alone.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST := $(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(PYTEST)

test-postgres: install
	$(PYTEST)

## Benchmarks against a baseline in the same run; results into docs/benchmarks.md.
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/tuidang_bench
export BENCH_POSTGRES_URL
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
		{ echo "The benchmarks need wrk: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python -m bench.webhook_bench --write-docs
	$(BIN)/python -m bench.access_log_bench --write-docs
	$(BIN)/python -m bench.screening_night --write-docs
	$(BIN)/python -m bench.login_flood --write-docs
	$(BIN)/python -m bench.registry_bench --write-docs
	$(BIN)/python -m bench.witness_bench --write-docs
	$(BIN)/python -m bench.year_bench --write-docs
	$(BIN)/python -m bench.desk_poll_bench --write-docs
	$(BIN)/python -m bench.statements_bench --write-docs
	$(BIN)/python -m bench.declare_flood --write-docs
	$(BIN)/python -m bench.declare_cost --write-docs
	$(BIN)/python -m bench.reports_bench --write-docs
	$(BIN)/python -m bench.public_bench --write-docs
	$(BIN)/python -m bench.worker_bench --write-docs
	$(BIN)/python -m bench.fleet_faults --write-docs

lint: install
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit -c pyproject.toml -r src -ll -ii -q
	@$(MAKE) --no-print-directory audit-deps

## Every installed package (the pins and what they pull in) against PyPI's vulnerability
## data; --strict fails on a package it cannot look up. Where PyPI's release pages cannot
## be reached it says so loudly instead of passing a check it did not make.
audit-deps: install
	@if $(BIN)/python -c "import urllib.request as u; u.urlopen('https://pypi.org/pypi/pip/json', timeout=10); u.urlopen('https://pypi.org/pypi/pip/24.0/json', timeout=10)" 2>/dev/null; \
	then $(BIN)/pip-audit --strict --skip-editable --progress-spinner off; \
	else echo "pip-audit NOT RUN: PyPI's per-release vulnerability data is unreachable from here." >&2; fi

## Reformat and fix what `make lint` checks with ruff.
fmt: install
	$(BIN)/ruff format src bench
	$(BIN)/ruff check --fix src bench

## Gather new interface strings into the catalogues and compile them (needs GNU gettext).
messages: install
	cd src/tuidang && TUIDANG_HOME=$(CURDIR) ../../$(BIN)/tuidang makemessages -l zh_Hans --no-location --no-wrap \
		--ignore 'tests/*' --ignore conftest.py --ignore 'migrations/*'
	cd src/tuidang && TUIDANG_HOME=$(CURDIR) ../../$(BIN)/tuidang compilemessages
	$(MAKE) messages-hant

## Traditional Chinese, made from the Simplified catalogue (lib/management/commands/hant_messages.py).
messages-hant: install
	$(BIN)/tuidang hant_messages

clean:
	rm -rf $(VENV) var build src/*.egg-info
