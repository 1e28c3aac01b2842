# The two commands of the README: `make serve` (the main job) and `make test`.
# Each creates .venv and installs what it needs on first use (Python 3.11+).

VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: serve test lint clean services

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

serve: $(BIN)/.installed
	$(BIN)/coopgraph serve

lint: $(BIN)/.installed
	$(BIN)/ruff check server tests benchmarks

test: lint
	$(BIN)/python -m pytest

# Virtuoso for tests/test_remote_store.py, installed only when virtuoso-t is missing
# (Debian/Ubuntu; root, or sudo). The -bin package holds virtuoso-t and isql-vt only: no
# debconf DBA-password prompt, no system service started on ports 1111/8890.
services:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends virtuoso-opensource-7-bin; }

clean:
	rm -rf $(VENV) .coopgraph .pytest_cache
