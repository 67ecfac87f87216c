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

$(STAMP): requirements.txt $(VENV)/bin/python
	@echo "Installing Muse's requirements…"
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/bin/python
	@echo "Installing Muse's requirements and test tools…"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(STAMP)

clean:
	rm -rf $(VENV) data
