# FocusWeb: `make run` serves the app, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export FOCUSWEB_ENV ?= development
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# axe-core for the accessibility tests (npm package, pinned; installed into node_modules/, which git ignores).
AXE_CORE_VERSION := 4.11.4
BENCH_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint axe-core bench bench-scenario screenshots clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.test-deps: requirements-dev.txt requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

## run: create the database (migrations), load the demo data on first start, serve on http://127.0.0.1:$(PORT)
run: $(VENV)/.run-deps
	@scripts/system-deps.sh run
	$(BIN)/flask --app wsgi db upgrade
	@if [ "$$FOCUSWEB_ENV" != production ]; then $(BIN)/flask --app wsgi seed-demo; fi
	exec $(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --keep-alive 5 --preload \
		--max-requests 5000 --max-requests-jitter 500 --access-logfile - wsgi:app

## test: every test, on SQLite and (when it answers on 127.0.0.1:5432) on PostgreSQL
test: $(VENV)/.test-deps
	@scripts/system-deps.sh test
	@$(MAKE) --no-print-directory axe-core
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=2).close()" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL run is skipped"; fi

test-sqlite: $(VENV)/.test-deps
	FOCUSWEB_ENV=testing $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.test-deps
	FOCUSWEB_ENV=testing TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

axe-core:
	@if grep -qs '"version": "$(AXE_CORE_VERSION)"' node_modules/axe-core/package.json; then :; \
	elif command -v npm >/dev/null; then \
		echo "installing axe-core $(AXE_CORE_VERSION) into node_modules/"; \
		npm install --no-save --no-audit --no-fund --loglevel=error --prefix . axe-core@$(AXE_CORE_VERSION); \
	else echo "npm is missing: the accessibility tests will be skipped (they fail under CI)"; fi

## bench: requests/s and latency of each page with wrk (a C load generator), SQLite and PostgreSQL (README, "Measured");
##        BENCH_ARGS="--quick" for SQLite only, 3 s a page
bench: $(VENV)/.test-deps
	@scripts/system-deps.sh bench
	$(BIN)/python scripts/bench_wrk.py $(BENCH_ARGS)

## bench-scenario: a whole meeting day for many sellers at once (saves lost, read-along delay); its own client
bench-scenario: $(VENV)/.test-deps
	@scripts/system-deps.sh run
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

## screenshots: every screen at 360x740, 390x844 and 1280x800, light and dark, into docs/screenshots/
screenshots: $(VENV)/.test-deps
	@scripts/system-deps.sh test
	$(BIN)/python scripts/screenshots.py

lint: $(VENV)/.test-deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
