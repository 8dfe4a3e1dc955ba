# The two Quick-start commands (see README.md). `make run` and `make test` install into .venv first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test run test lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	$(BIN)/monitor run

test: install-test
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/poll_bench.py
