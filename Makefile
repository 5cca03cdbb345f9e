# Two commands do all the set-up on a fresh machine (see README.md):
#   make run    install into .venv, then train/label/test the default network
#   make test   install into .venv, then run the test suite
PYTHON ?= python3.12
VENV   ?= .venv
# The main environment: brian2 2.10.x (brian2cuda 1.0b1 pins 2.10.1) and numpy 2.
PINS   ?= brian2==2.10.1 'numpy>=2,<3'
# The canonical MNIST files, where this checkout has them beside it.
SHARED_MNIST := $(wildcard $(abspath ../shared/data/mnist))
DATA_ENV := $(if $(SHARED_MNIST),BRIAN_STDP_DATA=$(SHARED_MNIST))

.PHONY: run test install

$(VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,ann,dask]' $(PINS)
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(DATA_ENV) $(VENV)/bin/python -m brian_stdp.run --device cpp_standalone

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest
