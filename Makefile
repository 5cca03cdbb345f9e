# Two commands do all the set-up on a fresh machine (see README.md):
#   make run    install into .venv, then train/label/test the default network
#   make test   install into .venv (and .venv-genn, for --device genn), then run the tests
PYTHON ?= python3.12
VENV   ?= .venv
# The main environment: brian2 2.10.x (brian2cuda 1.0b1 pins 2.10.1) and numpy 2.
PINS   ?= brian2==2.10.1 'numpy>=2,<3'
# The second environment, for --device genn: brian2genn 1.7 needs Python 3.11, brian2 2.5.x
# and numpy < 2 (docs/devices.md). Its tests build and run on GeNN (CPU backend).
GENN_PYTHON ?= python3.11
GENN_VENV   ?= .venv-genn
GENN_PINS   ?= 'brian2genn==1.7.0' 'brian2>=2.5,<2.6' 'numpy<2'
GENN_TESTS  := tests/backends/test_genn.py tests/backends/test_devices.py tests/model/test_model.py
# The canonical MNIST files, where this checkout has them beside it.
SHARED_MNIST := $(wildcard $(abspath ../shared/data/mnist))
DATA_ENV := $(if $(SHARED_MNIST),BRIAN_STDP_DATA=$(SHARED_MNIST))

.PHONY: run test install test-main test-genn

$(VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet setuptools wheel -e '.[test,ann,dask,cuda]' $(PINS)
	touch $@

# GeNN 4.9.0 is not on the package registries: its vendored release is unpacked into the
# GeNN environment ($(GENN_VENV)/genn-4.9.0, where brian_stdp.backends.devices.genn.genn_path finds it),
# after its sha256 is checked. Elsewhere, download genn-4.9.0.tar.gz from
# https://github.com/genn-team/genn/releases/tag/4.9.0 and give its path as GENN_ARCHIVE.
GENN_ARCHIVE ?= ../shared/vendor/genn-4.9.0.tar.gz
GENN_SHA256  := 00394a1189ae40aa2c87a1d488c68439978735c06030d24aee75f0e39944e93a

$(GENN_VENV)/.installed: setup.cfg pyproject.toml Makefile
	@test -f $(GENN_ARCHIVE) || { echo "GeNN archive $(GENN_ARCHIVE) is missing: download genn-4.9.0.tar.gz (https://github.com/genn-team/genn/releases/tag/4.9.0) and run make GENN_ARCHIVE=/path/to/it" >&2; exit 1; }
	@echo "$(GENN_SHA256)  $(GENN_ARCHIVE)" | sha256sum --check --status || { echo "GeNN archive $(GENN_ARCHIVE): sha256 is not $(GENN_SHA256)" >&2; exit 1; }
	$(GENN_PYTHON) -m venv $(GENN_VENV)
	$(GENN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GENN_VENV)/bin/python -m pip install --quiet -e '.[test]' $(GENN_PINS)
	rm -rf $(GENN_VENV)/genn-4.9.0
	tar -xzf $(GENN_ARCHIVE) -C $(GENN_VENV)
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(DATA_ENV) $(VENV)/bin/python -m brian_stdp.run --device cpp_standalone

# The whole suite: the main environment, then the GeNN environment's tests.
test: test-main test-genn

# The main suite runs on one pytest worker per core (pytest-xdist), a test file per worker:
# most tests compile a C++ program, and a compile uses one core. TEST_WORKERS=0: one process.
# The GeNN tests stay in one process: GeNN builds its libraries into one shared folder.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

# --durations: the slowest tests close the output, to keep CI's time in view.
test-main: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

# BRIAN_STDP_REQUIRE_GENN: a GeNN test fails, instead of being skipped, where brian2genn or
# GeNN is missing.
test-genn: $(GENN_VENV)/.installed
	$(DATA_ENV) BRIAN_STDP_REQUIRE_GENN=1 $(GENN_VENV)/bin/python -m pytest $(GENN_TESTS) --durations=10
