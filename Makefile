# Vane: every target here is what CI and the README run. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install Vane with its dev tools

lint: $(STAMP) ## ruff (lint + format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy --strict on streams and models
	$(BIN)/mypy

test: lint typecheck ## Lint, type-check and run every test (unit + integration)
	$(BIN)/pytest -q

demo: $(STAMP) ## Start the embedded stack and a worker (Ctrl-C stops all)
	$(BIN)/vane demo

bench: $(STAMP) ## Run the benchmarks and print their figures
	$(BIN)/python benchmarks/bench_contract.py

clean: ## Remove the venv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .vane *.egg-info

.PHONY: help install lint typecheck test demo bench clean
