# Two commands for a fresh machine: `make run` starts the app, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint format browser-deps postgres-deps nginx-deps bench clean cluster cluster-stop worker room room-stop

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to the version the tests passed with.
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Debian's Chromium drives the browser tests; Playwright never downloads a browser here.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The store's tests start a real PostgreSQL server of their own from Debian's binaries.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql for the run store's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# The class room's tests put Debian's nginx in front of real page servers.
nginx-deps:
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null 2>&1 || { \
		echo "installing Debian's nginx for the class room"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(VENV)/.installed-dev browser-deps postgres-deps nginx-deps lint
	$(BIN)/python -m pytest

# A Dask cluster on this machine: a scheduler and $(WORKERS) single-threaded workers in the
# background, with the project on PYTHONPATH so workers run its code (TensorFlow preloaded).
# CLUSTER_HOST=0.0.0.0 lets other machines join; do that on a trusted network only, since
# a Dask scheduler runs whatever code its clients send.
WORKERS ?= 2
CLUSTER_HOST ?= 127.0.0.1
SCHEDULER_PORT ?= 8786
DASHBOARD_PORT ?= 8787
CLUSTER_DIR := runs/cluster
WORKER_OPTIONS := --nthreads 1 --nworkers 1 --preload lstm_core.model.pipeline

cluster: $(VENV)/.installed
	@mkdir -p $(CLUSTER_DIR)
	@PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=2 nohup $(BIN)/dask scheduler \
		--host $(CLUSTER_HOST) --port $(SCHEDULER_PORT) \
		--dashboard-address $(CLUSTER_HOST):$(DASHBOARD_PORT) \
		> $(CLUSTER_DIR)/scheduler.log 2>&1 & echo $$! > $(CLUSTER_DIR)/scheduler.pid
	@for i in $$(seq 1 $(WORKERS)); do \
		PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=2 nohup $(BIN)/dask worker \
			tcp://$(CLUSTER_HOST):$(SCHEDULER_PORT) $(WORKER_OPTIONS) \
			> $(CLUSTER_DIR)/worker-$$i.log 2>&1 & echo $$! > $(CLUSTER_DIR)/worker-$$i.pid; \
	done
	@echo "Scheduler and $(WORKERS) worker(s) starting (logs in $(CLUSTER_DIR)/; each worker"
	@echo "imports TensorFlow first, 10-40 s). Dashboard: http://$(CLUSTER_HOST):$(DASHBOARD_PORT)/status"
	@echo "Then, in the shell that runs the app or the CLI:"
	@echo "  export LSTM_LAB_DASK=tcp://$(CLUSTER_HOST):$(SCHEDULER_PORT)"
	@echo "(other machines: the same port on this machine's network address)"
	@echo "Stop them with: make cluster-stop"

cluster-stop:
	@for pidfile in $(CLUSTER_DIR)/*.pid; do \
		[ -f "$$pidfile" ] && kill $$(cat $$pidfile) 2>/dev/null; rm -f "$$pidfile"; \
	done; echo "cluster stopped"

# Join another machine's cluster from a clone of this project (runs in the foreground).
worker: $(VENV)/.installed
	@test -n "$(SCHEDULER)" || { echo "usage: make worker SCHEDULER=tcp://HOST:8786"; exit 2; }
	PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/dask worker $(SCHEDULER) $(WORKER_OPTIONS)

# A class on this machine: PostgreSQL (the shared run store), a Dask scheduler and $(WORKERS)
# workers, $(SERVERS) page servers and nginx on $(ROOM_PORT) with sticky seats. Logs and pids
# in runs/room/. ROOM_HOST=0.0.0.0 opens nginx (only nginx) to the network.
SERVERS ?= 3
ROOM_PORT ?= 8080
ROOM_HOST ?= 127.0.0.1

room: $(VENV)/.installed postgres-deps nginx-deps
	$(BIN)/python -m lstm_core room start --servers $(SERVERS) --workers $(WORKERS) \
		--port $(ROOM_PORT) --host $(ROOM_HOST)

room-stop: $(VENV)/.installed
	$(BIN)/python -m lstm_core room stop

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_training.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
