# xinrong — set-up is two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
XINRONG := $(VENV)/bin/xinrong
STAMP_PY := $(VENV)/.installed
STAMP_DEV := $(VENV)/.installed-dev
STAMP_NODE := node_modules/.installed
VENDOR := src/xinrong/web/static/vendor/.built
SEED ?= 20221
SCALE ?= demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint serve seed static install install-dev migrate messages clean bench check-browser

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_PY): pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml $(STAMP_PY)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR): $(STAMP_NODE) scripts/build_static.mjs
	npm run --silent build
	touch $@

install: $(STAMP_PY) $(VENDOR)
install-dev: $(STAMP_DEV) $(VENDOR)
static: $(VENDOR)

migrate: install
	$(XINRONG) migrate --noinput

## demo: install everything, migrate SQLite under var/, load demo data (idempotent), serve on :8000
demo: install
	$(XINRONG) migrate --noinput
	$(XINRONG) collectstatic --noinput --verbosity 0
	$(XINRONG) seed --scale $(SCALE) --seed $(SEED)
	XINRONG_INSECURE_COOKIES=1 XINRONG_DEMO_LOGINS=1 $(XINRONG) serve --host $(HOST) --port $(PORT)

seed: migrate
	$(XINRONG) seed --scale $(SCALE) --seed $(SEED)

serve: install
	XINRONG_INSECURE_COOKIES=1 XINRONG_DEMO_LOGINS=1 $(XINRONG) serve --host $(HOST) --port $(PORT)

## test: install test dependencies and run the whole suite (browser tests included)
test: install-dev
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadfile

## lint: ruff, ruff format, mypy, import-linter layers, migrations check
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

messages: install-dev
	cd src/xinrong && XINRONG_VAR=$(CURDIR)/var ../../$(PY) ../../manage.py makemessages -l en --no-obsolete --ignore "*/tests/*" && XINRONG_VAR=$(CURDIR)/var ../../$(PY) ../../manage.py compilemessages

bench: install-dev
	$(PIP) install --quiet -e '.[bench]'
	$(PY) benchmarks/seed_bench.py
	$(PY) benchmarks/ingest_bench.py --rows 1000000 --backend postgres
	$(PY) benchmarks/german_credit.py
	$(PY) benchmarks/score_bench.py

clean:
	rm -rf $(VENV) node_modules var src/xinrong/web/static/vendor
