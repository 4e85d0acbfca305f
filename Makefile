# pixelvault: `make run` starts a server on the embedded defaults, `make test` runs
# every test. Both set up everything they need on a fresh machine; a user's install
# (`make install`, `make run`) gets the runtime dependencies only, the test tools come
# with `make test` and `make lint`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
WEB := src/pixelvault/web
WEB_STAMP := $(WEB)/node_modules/.installed-stamp

.PHONY: install install-test run test lint typecheck clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(TEST_STAMP)

# The web application's packages (OpenLayers), exactly as the lock file says.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "the web application needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

install-test: $(TEST_STAMP)

run: install
	$(BIN)/pixelvault serve --first-run

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint $(WEB_STAMP)
	scripts/install-test-tools.sh
	PIXELVAULT_TEST_PG_URL="$$(scripts/start-postgres.sh)" $(BIN)/python -m pytest -q -ra -n 2 --dist loadgroup --durations=25

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
