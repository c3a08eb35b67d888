# Two set-up commands for a fresh machine: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
PG_URL ?= postgres://postgres@127.0.0.1:5432/warehouse
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo serve test lint typecheck pytest bench screenshots browser-deps install clean

.venv/bin/python:
	python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install -q --upgrade pip

.venv/.installed: .venv/bin/python pyproject.toml
	$(PIP) install -q -e '.[dev]'
	touch $@

install: .venv/.installed

# Debian's chromium drives the browser tests; no browser download works here.
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing Debian chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; \
	fi

# The demo runs without DEBUG on the embedded SQLite file (var/db.sqlite3, or DEMO_DB=<path>), whatever DATABASE_URL says.
DEMO_ENV = env -u DATABASE_URL DEBUG=false $(if $(DEMO_DB),DATABASE_URL=sqlite:///$(abspath $(DEMO_DB)) DEMO_DB=$(abspath $(DEMO_DB)))

demo: install
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py sync_schedules
	$(DEMO_ENV) bash scripts/demo.sh

# The production run on DATABASE_URL (PostgreSQL), production profile: migrate, roles, schedules, collectstatic, then
# gunicorn (deploy/gunicorn.conf.py) and the django-q2 worker. See README "Running in production".
serve: install
	DJANGO_PROFILE=production bash scripts/serve.sh

# The import contracts ([tool.importlinter] in pyproject.toml): layers that only point down, platforms independent.
lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

typecheck: install
	.venv/bin/mypy config demo warehouse inventory orders returns integrations reports

pytest: install browser-deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} .venv/bin/pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	@for b in bench/[!_]*.py; do echo "== $$b"; DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) $$b || exit 1; done

screenshots: install browser-deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) scripts/screenshots.py

clean:
	rm -rf .venv var/*.sqlite3
