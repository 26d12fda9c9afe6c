# Breastscan — every command the README names. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
export BREASTSCAN_SHARED_DIR ?= $(abspath $(SHARED))

.DEFAULT_GOAL := help
.PHONY: help install install-dev run serve api migrate test lint typecheck importlint unit \
        integration e2e browser-deps bench stack explore preprocess train evaluate export \
        ml-bench format clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.service: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,ml]'
	@touch $@ $(VENV)/.service

install: $(VENV)/.service ## Install the service (no TensorFlow) into .venv

install-dev: $(VENV)/.dev ## Install service + dev tools + ML extra into .venv

run: $(VENV)/.service ## Set up and run the product: UI at http://127.0.0.1:8000/, API at /api
	$(BIN)/breastscan migrate
	$(BIN)/breastscan serve

api: $(VENV)/.service ## Run the API alone (several workers possible: WORKERS=4)
	$(BIN)/breastscan migrate
	$(BIN)/breastscan serve --api-only --workers $${WORKERS:-2}

migrate: $(VENV)/.service ## Upgrade the database to the latest schema
	$(BIN)/breastscan migrate

browser-deps: ## Install Debian chromium for the real-browser tests when missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing chromium + chromium-driver with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "Installing docker-compose (for validating docker-compose.yml)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }

lint: $(VENV)/.dev ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

importlint: $(VENV)/.dev ## Check the hexagonal layer contract
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev ## mypy (strict on every service package)
	$(BIN)/mypy

test: $(VENV)/.dev browser-deps lint importlint typecheck ## Set up and run the whole test suite
	$(BIN)/python -m pytest

unit: $(VENV)/.dev ## Unit tests only (fast)
	$(BIN)/python -m pytest -m unit

format: $(VENV)/.dev ## Apply ruff formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove caches (keeps .venv and data/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

stack: $(VENV)/.dev ## Migrate once, run two API replicas + the UI against local PostgreSQL
	$(BIN)/python scripts/stack.py --create-database --database-url $${BREASTSCAN_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/breastscan_stack}

bench: $(VENV)/.dev ## Breastscan vs the seed-style peer, side by side: req/s, p50/p95/p99, ratio, breakdown, RSS (MODEL=...)
	$(BIN)/python benchmarks/bench.py $${MODEL:+--model $$MODEL}

# --- ml/: research and training (TensorFlow lives only in the `ml` extra) -----------------
explore: $(VENV)/.dev ## Data exploration: balance, intensities, montage, near-duplicates
	$(BIN)/python -m ml.explore_data

preprocess: $(VENV)/.dev ## Ingest a class-folder tree: make preprocess FOLDER=dir [OUT=ml/data/dataset.npz]
	@test -n "$(FOLDER)" || { echo "usage: make preprocess FOLDER=path/to/{train,val,test}/<class>/ [OUT=...]"; exit 2; }
	$(BIN)/python -m ml.ingest --folder "$(FOLDER)" --out "$${OUT:-ml/data/dataset.npz}"

train: $(VENV)/.dev ## Train model 2.0 from ml/config.yaml (log: ml/runs/default/), then export fp32 + int8
	$(BIN)/python -m ml.train
	$(BIN)/python -m ml.export

export: $(VENV)/.dev ## Export the last run: ONNX fp32 + int8, parity, calibration, threshold, bands, card
	$(BIN)/python -m ml.export

evaluate: $(VENV)/.dev ## Per-source validation metrics, ROC, reliability, outline montage (MODEL=path)
	$(BIN)/python -m ml.evaluate --model $${MODEL:-models/breast-cnn.onnx}

ml-bench: $(VENV)/.dev ## Single-image latency on one core: model 1.1.0 vs fp32 vs int8, side by side
	$(BIN)/python -m ml.benchmark
