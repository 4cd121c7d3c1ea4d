# warroom: `make run` and `make test` do all the set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit servers bench soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/warroom serve

servers:
	bash scripts/install-test-servers.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: install servers lint typecheck
	$(BIN)/python -m pytest -q

# The suite ROUNDS times (default 5) with every core kept busy: before resolving anything that touches
# threads, timers, shutdown or the event loop. See scripts/soak.sh.
soak: install servers
	bash scripts/soak.sh

bench: install servers
	$(BIN)/python bench/declare_latency.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_cost.py
	$(BIN)/python bench/processes.py
	$(BIN)/python bench/big_body.py
	$(BIN)/python bench/diagnose.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .soak warroom.db*
