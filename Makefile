# shopmail — the README's commands. Everything installs what it is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX := static/vendor/htmx.min.js
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/shopmail_test

.PHONY: run test test-sqlite test-postgres bench lint format deps machine screens

deps: $(VENV)/.installed $(HTMX)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

## make run: the whole desk (web, worker, scheduler) on http://127.0.0.1:5000/
run: deps
	$(BIN)/python -c "from shopmail.config import development_secrets; development_secrets()"
	$(BIN)/flask --app app run-desk

## make test: unit, integration and browser tests on SQLite, then integration on PostgreSQL
test: deps machine lint test-sqlite test-postgres

machine:
	bash .ci/setup-machine

test-sqlite:
	env -u DATABASE_URL $(BIN)/pytest tests -q

test-postgres:
	psql "$(dir $(PG_TEST_URL))postgres" -qtc "SELECT 1 FROM pg_database WHERE datname='$(notdir $(PG_TEST_URL))'" | grep -q 1 \
	  || psql "$(dir $(PG_TEST_URL))postgres" -qc "CREATE DATABASE $(notdir $(PG_TEST_URL))"
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest tests/integration -q

## make bench: speed against the machine's SMTP ceiling (bench/README.md); loopback only
bench: deps
	command -v smtp-sink >/dev/null || { echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null; postfix stop 2>/dev/null || true; }
	pg_isready -h 127.0.0.1 -p 5432 -q || bash .ci/setup-machine
	$(BIN)/python -m bench

## make screens: rewrites docs/screens/*.png (1366×768, Japanese Chromium); look before committing
screens: deps
	$(BIN)/pytest tests/browser/screens.py -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
