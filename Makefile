# Two commands for a new user (see README):
#   make run    installs into .venv and runs the default scenario
#   make test   installs into .venv (with test tools) and runs lint, types and tests
# Also: make test-slow (the statistical checks), make format, make viz, make lessons,
# make clean (caches and build files; never results/ or .venv).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow lint format clean install install-test viz lessons

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,viz]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/alignment-sim

lint: install-test
	$(BIN)/ruff check src tests benchmarks scripts experiments
	$(BIN)/ruff format --check src tests benchmarks scripts experiments
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff check --fix src tests benchmarks scripts experiments
	$(BIN)/ruff format src tests benchmarks scripts experiments

test: lint
	$(BIN)/python -m pytest -q -n auto

test-slow: install-test
	$(BIN)/python -m pytest -q -m slow

viz: install-test
	$(BIN)/alignment-sim-viz

lessons: install-test
	$(BIN)/alignment-sim-lessons --figures

clean:
	rm -rf build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
	find src tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +
