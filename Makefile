# Entry points for a fresh machine: `make run` and `make test` create .venv when it is missing,
# install the pinned stack (requirements/install.sh) and then run. The install step is skipped
# when .venv is newer than every requirements file and setup.py.
SHELL := /bin/bash
VENV ?= .venv
STAMP := $(VENV)/.tenrec-installed
INSTALL_INPUTS := $(wildcard requirements/*) setup.py
PYTEST_WORKERS ?= 2
RUN_ARGS ?= --task ctr --model deepfm

export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test lint-compile clean-venv

$(STAMP): $(INSTALL_INPUTS)
	bash requirements/install.sh $(VENV)
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tenrec run $(RUN_ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) tests

clean-venv:
	rm -rf $(VENV)
