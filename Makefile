# The two commands of the README: `make demo` serves the app with the seeds loaded,
# `make test` runs the whole test suite. Each does its own set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast setup bench-small clean

# One environment for both commands: the product's requirements and those of the tests and benchmarks.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/kb demo

# The browser tests drive Debian's Chromium and screenshot Chinese names (a CJK font): both installed first
# when we may, else one sentence says what to install. Files are shared out among TEST_WORKERS processes,
# each with its own Neo4j, app and browser (TEST_WORKERS=0: all in one process). The slowest 25 tests close the log.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

test: setup
	@.ci/ensure-chromium
	@.ci/ensure-cjk-font
	$(PYTEST) --durations=25

# The inner loop: no browser, no 100k-tie graphs, no test that stops or restarts the server.
test-fast: setup
	$(PYTEST) -m "not browser and not scale and not restarts"

bench-small: setup
	$(BIN)/python bench/run.py --size small

clean:
	rm -rf $(VENV) server/target
