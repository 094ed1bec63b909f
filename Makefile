# thematic — the two commands a fresh machine needs:
#   make reproduce   set up .venv, execute every notebook, regenerate corpus/processed, figures/, appendix/
#   make test        set up .venv, run all tests (unit tests, doctests, lint, notebooks under nbval,
#                    the browser test of the coding workspace)
# Also: make lab (JupyterLab on this study), make docs (the documentation site),
#       make test-py313 (unit tests of the light core on Python 3.13), make bench.
SHELL := /bin/bash
# A Python 3.11 (3.11.5 or later: the pinned docs tools need it; the CPU torch wheel is cp311),
# preferring the one on PATH, then pyenv's; Debian's 3.11.2 is passed over.
PYTHON ?= $(shell for p in $$(command -v python3.11) $$HOME/.pyenv/versions/3.11*/bin/python3.11 \
            $$(command -v python3); do "$$p" -c 'import sys; sys.exit(not (3, 11, 5) <= \
            sys.version_info[:3] < (3, 12))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
# A Python 3.13 that runs (a pyenv shim of a version that is not selected does not).
PY313 ?= $(shell for p in $$(command -v python3.13) $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
            "$$p" -c "" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
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

.PHONY: setup reproduce test test-fast test-py313 lint figures lab docs bench lock clean-venv

setup: $(STAMP)

# (Re)install when the dependency files change. constraints.txt pins every transitive
# package to the versions the project was tested with; pyproject.toml is the source.
$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "no Python 3.11.5+ found: install one (pyenv install 3.11) or pass PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[all,test]"
	@touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/thematic reproduce

test: $(STAMP) lint
	$(BIN)/python -m pytest tests notebooks $(NBVAL)
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory test-py313

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -x -q

# The light core (no torch, no BERTopic) on Python 3.13: tests marked `topics` need the extra
# and run on 3.11 above; the browser test runs there too.
test-py313:
	@if [ -z "$(PY313)" ]; then echo "python3.13 not found: install it (pyenv install 3.13) to run the core's tests on it"; \
	  if [ -n "$$CI" ]; then exit 1; else exit 0; fi; fi
	@if [ -n "$(PY313)" ]; then \
	  test -x .venv313/bin/python || $(PY313) -m venv .venv313; \
	  .venv313/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" && \
	  .venv313/bin/python -m pytest tests -m "not topics and not browser" -q -p no:cacheprovider; fi

# The documentation site: API reference from the docstrings, notebooks from their stored
# outputs; --strict turns every warning into an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean -d build/site

lab: $(STAMP)
	env -u TQDM_DISABLE $(BIN)/python -m jupyter lab

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
