# `make help` lists every target with its one-line description.
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help install test test-slow lint format run clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

install: ## Create .venv and install unlearn (editable) with its test extra
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'

test: ## Run the fast test suite (CPU, offline)
	$(PY) -m pytest -q

test-slow: ## Run the slow tests as well
	$(PY) -m pytest -q -m ''

lint: ## Lint and check formatting with ruff
	$(PY) -m ruff check unlearn tests
	$(PY) -m ruff format --check unlearn tests

format: ## Format the code with ruff
	$(PY) -m ruff check --fix unlearn tests
	$(PY) -m ruff format unlearn tests

run: ## Run the default job (digits, small CNN, CPU)
	$(PY) -m unlearn

clean: ## Remove run outputs and caches (keeps .venv)
	rm -rf outputs multirun .pytest_cache .ruff_cache
