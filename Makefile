# Every target installs what it needs into .venv first; `install` does nothing when nothing changed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: install test lint format bench sandbox-image

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

sandbox-image: install
	$(VENV)/bin/factory sandbox build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(VENV)/bin/python bench/verify_throughput.py
	$(VENV)/bin/python bench/math_vs_peer.py
	$(VENV)/bin/python bench/math_peer.py
	$(VENV)/bin/python bench/code_conformance.py
