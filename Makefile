# pixelvault: `make run` starts a server on the embedded defaults, `make test` runs
# every test. Both set up everything they need on a fresh machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/pixelvault serve --first-run

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint
	PIXELVAULT_TEST_PG_URL="$$(scripts/start-postgres.sh)" $(BIN)/python -m pytest -q -ra -n 2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
