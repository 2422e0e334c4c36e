# The two commands of the README: `make run` (the quarterly report on the demo inputs) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install demo template clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ftap run --period 2025-T2

test: $(STAMP)
	$(BIN)/ruff check ftap_pipeline flows tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2

demo: $(STAMP)
	$(BIN)/ftap demo inputs

template: $(STAMP)
	$(BIN)/ftap template outputs/modele_remontee_v1.xlsx

clean:
	rm -rf $(VENV) .state .mypy_cache .ruff_cache .pytest_cache
