# RNNs from the ground up. Two commands on a fresh machine:
#   make book   builds the rendered book into _build/html/
#   make test   runs every test (unit, notebooks, book build, browser check)
# Each sets up what it needs: .venv, pinned dependencies, data, offline web assets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# pip prints one harmless warning per package for this machine's missing local indexes; hide only those.
QUIET_PIP := grep -v "^WARNING: Location 'file://" || true
BOOK_FLAGS := -W -n --keep-going

.PHONY: help setup data assets book test unit notebooks browser student results results-quick clean

help:
	@echo "make book      build the rendered book (sets everything up first)"
	@echo "make test      run every test: unit, solution notebooks (quick mode), book build, browser check"
	@echo "make student   regenerate the student notebooks from solutions/"
	@echo "make results   run the expensive experiments (full mode) and write results/"
	@echo "make clean     remove build output (keeps .venv and the data cache)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned requirements into $(VENV) ..."
	@$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | $(QUIET_PIP)
	@$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | $(QUIET_PIP)
	@$(PY) -c "import torch, numpy, jupyter_book" 
	@touch $@

setup: $(STAMP)

data: setup
	@$(PY) -m rnn_helpers.data prepare

assets: setup
	@$(PY) tools/vendor_assets.py

book: setup data assets
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "Book built: $(abspath _build/html/index.html)"

unit: setup data
	$(BIN)/pytest -q -m "not browser" tests

notebooks: setup data
	RNN_QUICK=1 $(BIN)/pytest -q --nbval-lax -p no:cacheprovider solutions

browser: setup
	@tools/install_chromium.sh
	$(BIN)/pytest -q -m browser tests

results-quick: setup data
	RNN_QUICK=1 RNN_RESULTS_DIR=_build/results-quick $(PY) tools/run_results.py

test: setup data assets
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory notebooks
	$(MAKE) --no-print-directory results-quick
	$(MAKE) --no-print-directory book
	$(MAKE) --no-print-directory browser

student: setup
	$(PY) tools/make_student.py

results: setup data
	$(PY) tools/run_results.py

clean:
	rm -rf _build .pytest_cache
