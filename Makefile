# The two commands of the README: `make serve` (the main job) and `make test`.
# Each creates .venv and installs what it needs on first use (Python 3.11+).

VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: serve test lint clean

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

clean:
	rm -rf $(VENV) .coopgraph .pytest_cache
