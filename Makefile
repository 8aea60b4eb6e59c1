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

typecheck: $(STAMP) ## mypy --strict on streams/ and models/
	$(BIN)/mypy

test: lint typecheck tools kafka ## Lint, type-check, every test: tests/unit (mirrors streams/), integration, deploy
	$(BIN)/pytest -q --durations=15

tools: ## Install promtool and kcat with apt-get when missing (never fails: says why not)
	@need=""; for pair in promtool:prometheus kcat:kcat; do \
	  tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  if command -v $$tool >/dev/null; then echo "tools: $$tool present"; else need="$$need $$pkg"; fi; \
	done; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "tools: cannot install$$need (not root, no sudo): tests that need them are skipped"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "tools: cannot install$$need (no apt-get): tests that need them are skipped"; exit 0; fi; \
	echo "tools: apt-get install$$need"; \
	{ $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$need >/dev/null; } \
	  || echo "tools: apt-get install$$need failed: tests that need them are skipped"

kafka: ## Fetch Apache Kafka's jars with Maven into .vane/kafka (never fails: says why not)
	@bash tools/kafka/fetch.sh

soak: $(STAMP) kafka ## tests/soak: fault injection (kills, restarts, stalls), about 5 minutes
	$(BIN)/pytest -q -m soak -s tests/soak

demo: $(STAMP) ## Embedded stack + a worker + events (streams/devtools/demo.py; Ctrl-C stops all)
	$(BIN)/vane demo

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) kafka ## streams/devtools/benchmark, Vane and its Quix peer on Tansu and Apache Kafka, 1M entities (15-20 min): bench-results/latest.{json,png}
	$(BIN)/vane bench --out bench-results

clean: ## Remove the venv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .vane *.egg-info

.PHONY: help install lint typecheck tools kafka test soak demo bench clean
