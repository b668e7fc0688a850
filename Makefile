# Dugnad: `make run` sets up and serves the platform; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

OIDC_DIR := tests/browser/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed

.PHONY: run setup install translations migrate demo test test-provider lint audit format clean vendor screenshots

run: setup
	@echo "Dugnad is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan on --ws-per-message-deflate false

setup: install translations migrate demo

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Dugnad needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

translations: install
	$(BIN)/python manage.py compiletranslations

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py seed_demo

# The single sign-on browser test's OpenID Connect provider (npm); without npm it skips.
$(OIDC_STAMP): $(OIDC_DIR)/package-lock.json
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-provider:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(OIDC_STAMP); \
	else echo "npm not found: the single sign-on browser test will skip (apt-get install nodejs npm)"; fi

test: install translations test-provider
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The import contracts in pyproject.toml ([tool.importlinter]): apps depend downward only.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports

# Known vulnerabilities in the installed dependencies (asks PyPI's vulnerability service,
# so it is not part of `make test`: the suite does not depend on the network).
audit: install
	$(BIN)/pip-audit --local --progress-spinner off

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Designsystemet's CSS under static/vendor/designsystemet/ (committed; needs npm only here).
vendor:
	scripts/vendor-css

# docs/screenshots/: the demo on a desktop and a phone (Playwright and Chromium).
screenshots: install
	$(BIN)/python scripts/screenshots

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
