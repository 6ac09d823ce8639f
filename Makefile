# Two commands on a fresh machine: `make up` and `make test`.
# Each creates .venv if missing and installs the project (servers included, as wheels).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: up test lint bench clean-state

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

up: $(STAMP)
	$(BIN)/repairflow up

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check services workflows tests bench

# The storm benchmark (bench/README.md): a stack of its own, the default size (about four
# minutes on 2 cores), the figures as a Markdown table, the JSON in bench/results/.
bench: $(STAMP)
	$(BIN)/python -m bench storm $(BENCH_ARGS)

clean-state:
	rm -rf .repairflow
