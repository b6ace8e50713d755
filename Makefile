# newsdrift task runner. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup browser demo airflow test lint fmt docs quick bench node-start node-stop clean

help:  ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsdrift needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q -c constraints.txt -e '.[airflow,dev]'
	touch $@

setup: $(BIN)/.installed  ## Create .venv, install newsdrift with pinned dependencies, fetch both engines' jars
	$(BIN)/newsdrift node install --engine opensearch
	$(BIN)/newsdrift node install --engine elasticsearch

CHROMIUM ?= /usr/bin/chromium
browser:  ## Headless Chromium (Debian package) for the drift-report browser test; a no-op when installed
	@test -x $(CHROMIUM) || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends chromium \
	  || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }; }

demo: setup  ## The main job: embedded OpenSearch + one newsdrift_ingest DAG run through Airflow
	$(BIN)/newsdrift node start
	$(BIN)/newsdrift init
	$(BIN)/python scripts/run_ingest_dag.py

airflow: setup  ## Local Airflow UI + scheduler (LocalExecutor, SQLite): migrate, newsdrift_http pool, opensearch_default connection, `airflow standalone`
	$(BIN)/python scripts/airflow_local.py standalone

test: setup browser  ## Install everything (Chromium included), lint and type-check, and run the whole test suite against a real node
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

PY_DIRS := newsdrift extractors dags scripts tests bench dashboards

lint: setup  ## ruff (lint and format check), mypy, and the check that no file tells how the project was built
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/python scripts/check_history.py

fmt: setup  ## Format the code (ruff format) and apply ruff's safe fixes
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

docs: $(BIN)/.installed  ## Regenerate docs/configuration.md from the settings' field docstrings
	$(BIN)/python -m newsdrift.ops.configdoc

quick: setup  ## Tests that need neither an OpenSearch node nor Airflow (the fast loop)
	$(BIN)/python -m pytest -m "not node and not airflow"

bench:  ## Benchmarks (print figures and ratios; need a node: NEWSDRIFT_BENCH_URL, default the test node)
	$(BIN)/python bench/ingest_bench.py --url $${NEWSDRIFT_BENCH_URL:-http://127.0.0.1:9251}
	$(BIN)/python bench/dedup_quality.py
	$(BIN)/python bench/drift_quality.py
	$(BIN)/python bench/extraction_quality.py
	$(BIN)/python bench/alert_latency.py --url $${NEWSDRIFT_BENCH_URL:-http://127.0.0.1:9251}
	$(BIN)/python bench/dedup_scale.py --url $${NEWSDRIFT_BENCH_URL:-http://127.0.0.1:9251}
	$(BIN)/python bench/extraction_realpages.py
	$(BIN)/python bench/realpages.py --url $${NEWSDRIFT_BENCH_URL:-http://127.0.0.1:9251}

node-start:  ## Start the embedded node (NEWSDRIFT_ENGINE, default OpenSearch)
	$(BIN)/newsdrift node start

node-stop:  ## Stop the embedded node (NEWSDRIFT_ENGINE, default OpenSearch)
	$(BIN)/newsdrift node stop

clean:  ## Remove caches (not ~/.newsdrift data)
	rm -rf .cache .pytest_cache .ruff_cache
