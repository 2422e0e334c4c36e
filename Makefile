# The two commands of the README: `make run` (the quarterly report on the demo inputs) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, pinned with its hashes, Prefect (extra `orchestration`) and the tools (extra `dev`) included:
# `make lock` writes it from pyproject.toml.
LOCK := requirements/lock.txt
# The lowest release of each direct dependency: `make test-floors` runs the tests there.
FLOORS := requirements/floors.txt
FLOORS_VENV := .venv-floors
LOCK_VENV := .venv-lock

.PHONY: run test test-spawn lint install lock test-floors demo template deploy clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ftap run --period 2025-T2

test: $(STAMP)
	$(BIN)/ruff check ftap_pipeline flows tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

# The suite again with the readers' workers started as on Windows and macOS (a fresh interpreter each, not a fork);
# the fresh install of tests/test_packaging.py depends on neither this nor the floors: it runs once, in `make test`.
test-spawn: $(STAMP)
	FTAP_START_METHOD=spawn $(BIN)/pytest -n 2 --dist loadgroup -p no:cacheprovider --ignore=tests/test_packaging.py

# After a change of pyproject.toml's dependencies (keeps the other pins), or `make lock LOCK_FLAGS=--upgrade`
# to take the newest releases the ranges admit; then commit the lock.
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet 'uv>=0.13,<0.14'
	$(LOCK_VENV)/bin/uv pip compile --quiet pyproject.toml --extra orchestration --extra dev --python-version 3.11 \
		--universal --generate-hashes $(LOCK_FLAGS) -o $(LOCK)

# The tests at the declared floors, in a venv of their own, made anew each time (about 2 minutes).
test-floors:
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c $(FLOORS) -e '.[orchestration,dev]'
	$(FLOORS_VENV)/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider --ignore=tests/test_packaging.py

# Both deployments of prefect.yaml on the Prefect server of PREFECT_API_URL, creating the `ftap` process pool
# first when it does not exist (`prefect deploy` refuses a pool it cannot find).
deploy: $(STAMP)
	$(BIN)/prefect work-pool inspect ftap >/dev/null 2>&1 || $(BIN)/prefect work-pool create ftap --type process
	$(BIN)/prefect deploy --all

demo: $(STAMP)
	$(BIN)/ftap demo --force inputs

template: $(STAMP)
	$(BIN)/ftap template --force outputs/modele_remontee_v1.xlsx

clean:
	rm -rf $(VENV) $(FLOORS_VENV) $(LOCK_VENV) .state .mypy_cache .ruff_cache .pytest_cache
