# FAROS — developer entry points.  `make run` installs and serves, `make test` installs and checks.
#
# Installs come only from the lock files (exact pins, regenerate with `make lock`), into .venv.
# A stamp file per lock makes a second `make` a no-op until a lock file or pyproject.toml changes.
# The installer is uv (pinned below, bootstrapped with pip): it installs the ~150 locked wheels in
# about 10 s where pip takes minutes.  `make INSTALLER=pip ...` uses plain pip instead.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
UV_VERSION := 0.13.9
INSTALLER  ?= uv
ifeq ($(INSTALLER),uv)
INSTALL := $(BIN)/uv pip install --quiet --python $(BIN)/python
else
INSTALL := $(PIP) install
endif
# pytest-xdist workers; each one starts its own embedded PostgreSQL when no server is configured.
PYTEST_WORKERS ?= 2
PYTEST_ARGS    ?=

RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: help install install-dev run migrate test lint pytest bench lock clean

help:
	@echo "make install   install the runtime from requirements.lock into .venv"
	@echo "make run       install, apply migrations and serve (faros serve)"
	@echo "make migrate   apply database migrations (faros migrate)"
	@echo "make test      install dev tools, then ruff, mypy, import-linter, bandit and pytest"
	@echo "make lint      ruff, mypy, import-linter and bandit only"
	@echo "make bench     run bench/run.sh"
	@echo "make lock      re-resolve requirements*.lock from pyproject.toml (needs PyPI)"
	@echo "make clean     remove .venv and caches (keeps .faros data)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(PIP) install uv==$(UV_VERSION)

$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python $(if $(filter uv,$(INSTALLER)),$(BIN)/uv)
	$(INSTALL) -r requirements.lock
	$(INSTALL) --no-deps --no-build-isolation -e .
	@touch $@

$(DEV_STAMP): requirements-dev.lock requirements.lock pyproject.toml | $(BIN)/python $(if $(filter uv,$(INSTALLER)),$(BIN)/uv)
	$(INSTALL) -r requirements-dev.lock
	$(INSTALL) --no-deps --no-build-isolation -e .
	@touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

run: install
	$(BIN)/faros serve

migrate: install
	$(BIN)/faros migrate

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r src -lll

pytest: install-dev
	$(BIN)/pytest $(if $(filter-out 0 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS)) $(PYTEST_ARGS)

# Prints how long it took at its end, so the suite's cost stays visible (budget: 10 minutes).
test:
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory lint pytest || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in all"; \
	exit $$status

bench: install
	@command -v wrk >/dev/null 2>&1 || { \
		echo "make bench needs wrk: sudo apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)"; \
		exit 2; }
	bash bench/run.sh

# Maintainers only: re-resolve the pins.  The runtime lock is resolved first and constrains the
# dev lock, so both install the same runtime versions.  hatchling (the build backend) is pinned
# too because the editable install runs with --no-build-isolation.
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
	--custom-compile-command "make lock"
lock: | $(BIN)/uv
	printf 'hatchling\n' | $(UV_COMPILE) pyproject.toml - -o requirements.lock
	printf 'hatchling\n' | $(UV_COMPILE) pyproject.toml - --extra dev \
		-c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
