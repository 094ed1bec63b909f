# thematic — the two commands a fresh machine needs:
#   make reproduce   set up .venv, execute every notebook, regenerate corpus/processed, figures/, appendix/
#   make test        set up .venv, run all tests (unit tests, lint, notebooks under nbval)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Offline, quiet, bit-stable runs: models come from installed packages, never from a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TQDM_DISABLE := 1
export PYTHONHASHSEED := 0
export TOKENIZERS_PARALLELISM := false
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export NUMBA_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL := --nbval --nbval-sanitize-with notebooks/nbval_sanitize.cfg

.PHONY: setup reproduce test test-fast lint figures bench lock clean-venv

setup: $(STAMP)

# (Re)install when the dependency files change. constraints.txt pins every transitive
# package to the versions the project was tested with; pyproject.toml is the source.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	@touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/thematic reproduce

test: $(STAMP) lint
	$(BIN)/python -m pytest tests notebooks $(NBVAL)

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -x -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

figures: $(STAMP)
	$(BIN)/thematic figures

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_clean.py
	$(BIN)/python benchmarks/bench_topics.py

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^thematic' > constraints.txt

clean-venv:
	rm -rf $(VENV)
