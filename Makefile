# Liaison — the two commands: `make run` (demo at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/liaison
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-sqlite test-services lint format messages install install-dev bench bench-export backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

# The compiled catalogues are committed; recompile when gettext is installed.
messages: install
	@if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null; fi

## Set up everything and run the demo at http://127.0.0.1:8000
run: install messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Set up everything and run the tests: SQLite first, then PostgreSQL + Redis when reachable
test: install-dev messages
	$(MAKE) test-sqlite
	$(MAKE) test-services

test-sqlite:
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m "not postgres and not redis" $(PYTEST_ARGS)

# On a laptop without PostgreSQL or Redis this run is skipped; with CI=true it must run.
test-services:
	@if $(BIN)/python scripts/services_up.py "$(PG_TEST_URL)" "$(REDIS_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" REDIS_URL="$(REDIS_TEST_URL)" $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL or Redis is not reachable, and CI=true: failing." >&2; exit 1; \
	else \
		echo "PostgreSQL or Redis is not reachable: skipping the PostgreSQL + Redis run."; \
	fi

## Back up the database, the visit photos and the exports into a new folder under BACKUP_DIR (backups/)
backup: install
	$(BIN)/python scripts/backup.py backup --to "$${BACKUP_DIR:-backups}"

## Restore one: make restore BACKUP=backups/liaison-20261201T020000Z (replaces the data, then checks it)
restore: install
	@test -n "$(BACKUP)" || { echo "Name the folder: make restore BACKUP=backups/liaison-..." >&2; exit 2; }
	$(BIN)/python scripts/backup.py restore "$(BACKUP)" --yes-replace

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks on PostgreSQL (10,000 members, 100,000 contacts); prints figures
bench: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/liaison_bench} $(BIN)/python benchmarks/quota.py

## Export benchmark on PostgreSQL (1,000,000 visits to the visit ledger vs raw openpyxl); prints figures
bench-export: install
	DATABASE_URL=$${BENCH_EXPORT_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/liaison_bench_export} $(BIN)/python benchmarks/export.py $(BENCH_ARGS)
