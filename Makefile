# Two commands do all the set-up on a fresh machine (see README.md):
#   make run    install into .venv, then train/label/test the default network
#   make test   install into .venv (and .venv-genn, for --device genn), then run the tests
PYTHON ?= python3.12
VENV   ?= .venv
# The main environment: brian2 2.10.x (brian2cuda 1.0b1 pins 2.10.1) and numpy 2.
PINS   ?= brian2==2.10.1 'numpy>=2,<3'
# The second environment, for --device genn: brian2genn 1.7 needs Python 3.11, brian2 2.5.x
# and numpy < 2 (README "GPU devices"). Its tests generate a GeNN project without compiling.
GENN_PYTHON ?= python3.11
GENN_VENV   ?= .venv-genn
GENN_PINS   ?= 'brian2genn==1.7.0' 'brian2>=2.5,<2.6' 'numpy<2'
GENN_TESTS  := tests/test_genn.py tests/test_devices.py tests/test_model.py
# The canonical MNIST files, where this checkout has them beside it.
SHARED_MNIST := $(wildcard $(abspath ../shared/data/mnist))
DATA_ENV := $(if $(SHARED_MNIST),BRIAN_STDP_DATA=$(SHARED_MNIST))

.PHONY: run test install test-main test-genn

$(VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet setuptools wheel -e '.[test,ann,dask,cuda]' $(PINS)
	touch $@

$(GENN_VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(GENN_PYTHON) -m venv $(GENN_VENV)
	$(GENN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GENN_VENV)/bin/python -m pip install --quiet -e '.[test]' $(GENN_PINS)
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(DATA_ENV) $(VENV)/bin/python -m brian_stdp.run --device cpp_standalone

# The whole suite: the main environment, then the GeNN environment's tests.
test: test-main test-genn

test-main: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

test-genn: $(GENN_VENV)/.installed
	$(GENN_VENV)/bin/python -m pytest $(GENN_TESTS)
