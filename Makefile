# Quick start: `make demo`, `make test`. Both create .venv from pyproject.toml when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/disburse demo --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check disburse tests benchmarks
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -q

# National scale (benchmarks/test_bench_national.py): order lines per month, and the streaming run's size.
# Smaller: make bench BENCH_NATIONAL_ROWS=100000 BENCH_NATIONAL_STREAMING=
BENCH_NATIONAL_ROWS ?= 100000,1000000,5000000
BENCH_NATIONAL_STREAMING ?= 50000000

bench: $(STAMP)
	BENCH_NATIONAL_ROWS=$(BENCH_NATIONAL_ROWS) BENCH_NATIONAL_STREAMING=$(BENCH_NATIONAL_STREAMING) \
		$(BIN)/pytest benchmarks -q --benchmark-only --benchmark-columns=min,median,max,rounds \
		--benchmark-json=benchmarks/results/latest.json

clean:
	rm -rf demo-out .pytest_cache .mypy_cache .ruff_cache .benchmarks
