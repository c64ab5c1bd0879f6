# PixelCNN for Chinese Calligraphy: set-up, book, tests.
#
#   make book        set up .venv if needed, build the site into _build/html/index.html
#   make test        set up .venv if needed, run the library tests and check every notebook (nbval)
#   make fonts       download the brush fonts (npm; apt-get for two more when run as root)
#   make dataset     rebuild the embedded dataset from the fonts
#   make notebooks   re-execute every book/*.ipynb in place, from a clean kernel
#   make requirements  regenerate requirements.txt from .venv (after changing the environment)
#   make clean       remove build outputs (keeps .venv and .fonts); `make distclean` removes those too
#
# Set-up needs only Python 3.11, pip and make. It runs once: .venv/.installed records it and is
# redone when requirements.txt or pyproject.toml change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS = $(sort $(wildcard book/*.ipynb))

# The same environment for the tests, the notebook checks and re-executing the notebooks, so that
# the stored outputs are reproducible: CPU only, quiet TensorFlow, deterministic ops and hashing.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export TF_DETERMINISTIC_OPS := 1
export CUDA_VISIBLE_DEVICES := -1
export MPLBACKEND := Agg
# ...except that notebook kernels draw figures inline, as the stored outputs do (with Agg, plt.show()
# in a kernel displays nothing). This is also what ipykernel uses when MPLBACKEND is not set.
KERNEL_MPLBACKEND := module://matplotlib_inline.backend_inline
test-notebooks notebooks: export MPLBACKEND := $(KERNEL_MPLBACKEND)
# Kernels: `make test` and `make notebooks` start them with .venv's Python, whatever kernelspecs
# exist (nbval's --nbval-current-env). For other Jupyter tools, prefer .venv's kernelspecs.
export JUPYTER_PREFER_ENV_PATH := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Tools started by the tests and notebooks (`python`, `jupyter`) come from .venv.
export PATH := $(abspath $(BIN)):$(PATH)

FONT_PACKAGES := @fontsource/ma-shan-zheng@5.3.1 @fontsource/zhi-mang-xing@5.3.0 \
                 @fontsource/liu-jian-mao-cao@5.3.0 @fontsource/long-cang@5.3.0
APT_FONTS := fonts-arphic-ukai fonts-lxgw-wenkai

.PHONY: help setup book test test-lib test-notebooks fonts dataset notebooks requirements clean distclean

help:
	@sed -n 's/^#   make /make /p' Makefile

# ---------------------------------------------------------------------------------------------
# Set-up

$(BIN)/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; \
	  print(f"Creating $(VENV) with Python {v[0]}.{v[1]} ($(PYTHON))"); \
	  v == (3, 11) or print("warning: requirements.txt was generated with Python 3.11; " \
	                        "if installing fails, run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --no-input -r requirements.txt
	$(BIN)/python -m pip install --no-input --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

setup: $(STAMP)

# ---------------------------------------------------------------------------------------------
# The book: exactly `jupyter-book build book/` (which puts the site in _build/html because
# _config.yml is at the top), plus -W (warnings are errors) and --all (rebuild every page, so a
# warning cannot hide in an incremental build). The notebooks are not executed (_config.yml).

book: $(STAMP)
	$(BIN)/jupyter-book build -W --all book/
	@test -f _build/html/index.html
	@echo "The site is in _build/html/index.html"

# ---------------------------------------------------------------------------------------------
# Tests. pytest exits non-zero (5) when it collects nothing, and make stops on that too.

test: test-lib test-notebooks

test-lib: $(STAMP)
	$(BIN)/python -m pytest tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env book/

# ---------------------------------------------------------------------------------------------
# Fonts and the dataset

fonts:
	@command -v npm >/dev/null || { echo "make fonts: npm is not installed; install Node.js (npm) and re-run." >&2; exit 1; }
	npm install --prefix .fonts --no-audit --no-fund $(FONT_PACKAGES)
	@if dpkg -s $(APT_FONTS) >/dev/null 2>&1; then \
	  echo "make fonts: $(APT_FONTS) already installed"; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "make fonts: apt-get is not available, skipped $(APT_FONTS); make dataset needs them, install them another way"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi; \
	  if [ "$$sudo" = none ]; then \
	    echo "make fonts: not root and no password-less sudo, skipped $(APT_FONTS); make dataset needs them, as root run: apt-get install -y $(APT_FONTS)"; \
	  else \
	    $$sudo apt-get install -y $(APT_FONTS) \
	      || { $$sudo apt-get update && $$sudo apt-get install -y $(APT_FONTS); } \
	      || echo "make fonts: apt-get failed, skipped $(APT_FONTS); make dataset needs them"; \
	  fi; \
	fi

dataset: $(STAMP)
	$(BIN)/python -m pixelcnn_lib dataset build

# ---------------------------------------------------------------------------------------------
# Re-execute the notebooks in place, in order, each from a fresh kernel of .venv's Python started in
# book/ (exactly as nbval does), without per-cell timing metadata, so that a re-run only changes
# what really changed. Any error stops it (cells tagged raises-exception are allowed to fail).

define RUN_NOTEBOOKS
import os, sys, time
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager
for path in sys.argv[1:]:
    start = time.time()
    print(f"executing {path} ...", flush=True)
    nb = nbformat.read(path, as_version=4)
    # The kernel nbval starts with --nbval-current-env: this Python, whatever kernelspecs exist.
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    NotebookClient(nb, km=km, timeout=600, record_timing=False,
                   resources={"metadata": {"path": os.path.dirname(path) or "."}}).execute()
    nbformat.write(nb, path)
    print(f"  done in {time.time() - start:.0f} s", flush=True)
endef
export RUN_NOTEBOOKS

notebooks: $(STAMP)
	$(BIN)/python -c "$$RUN_NOTEBOOKS" $(NOTEBOOKS)

# ---------------------------------------------------------------------------------------------
# requirements.txt: every package in .venv, pinned, except this project itself.

requirements:
	@test -f $(STAMP) || { echo "make requirements: no installed .venv to freeze; run make setup first" >&2; exit 1; }
	{ echo "# Exact pins of the whole environment that \`make\` installs into .venv (made with Python 3.11 on Linux)."; \
	  echo "# The ranges the project accepts are in pyproject.toml; tests/test_packaging.py checks both agree."; \
	  echo "# Do not edit by hand. To regenerate, change .venv (e.g. .venv/bin/pip install 'pkg==X.Y') and run"; \
	  echo "#   make requirements"; \
	  echo "# which runs: .venv/bin/python -m pip freeze --all --exclude-editable --exclude pixelcnn-calligraphy"; \
	  $(BIN)/python -m pip freeze --all --exclude-editable --exclude pixelcnn-calligraphy; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

# ---------------------------------------------------------------------------------------------

clean:
	rm -rf _build book/_build .pytest_cache book/.ipynb_checkpoints *.egg-info
	find book pixelcnn_lib tests -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .fonts
