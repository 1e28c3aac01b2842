# The two commands of the README: `make serve` (the main job) and `make test`.
# Each creates .venv and installs what it needs on first use (Python 3.11+).

VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: serve test quick lint clean services messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

serve: $(BIN)/.installed
	$(BIN)/coopgraph serve

lint: $(BIN)/.installed
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/mypy

test: lint services
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --doctest-modules server/coopgraph

# The everyday run while working (see README): everything but the tests marked
# virtuoso, browser or slow (no Debian services needed). `make test` runs them all.
quick: lint
	$(BIN)/python -m pytest -m "not virtuoso and not browser and not slow"
	$(BIN)/python -m pytest --doctest-modules server/coopgraph

# After changing texts of the pages: extract them (babel.cfg) and merge them into the
# catalogues; then fill in the new or changed msgstr of each language (fr, en, nl).
LOCALES = server/coopgraph/locales
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k translate:2 -k translate_plural:2,3 -k N_ \
	  --add-location=file --sort-by-file --project=coopgraph -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) \
	  --no-fuzzy-matching --ignore-obsolete

# Debian packages the tests use, installed only when missing (root, or sudo):
# - Virtuoso for tests/test_remote_store.py: the -bin package holds virtuoso-t and isql-vt
#   only (no debconf DBA-password prompt, no system service on ports 1111/8890); the tests
#   start their own instance on 127.0.0.1 with a temporary database.
# - Chromium and its driver for tests/test_browser.py (headless, started by the test).
services:
	@missing=""; \
	command -v virtuoso-t >/dev/null 2>&1 || missing="$$missing virtuoso-opensource-7-bin"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(VENV) .coopgraph .pytest_cache .mypy_cache .ruff_cache
