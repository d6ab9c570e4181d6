# The course's commands. Quick start: `make course` (run every notebook in fast mode into build/) and
# `make test` (the whole test suite). Both create .venv from requirements-lock.txt on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Use the offline copy of the datasets beside the checkout when there is one (CI's ../shared/data).
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(origin SSL_DATA_DIR), undefined)
ifneq ($(wildcard $(SHARED_DATA)),)
export SSL_DATA_DIR := $(SHARED_DATA)
endif
endif
NOTEBOOKS = $(shell $(PY) -m sslstudy course --list 2>/dev/null)
PYTEST_NB = --nbval-lax --nbval-current-env --nbval-cell-timeout=600 --nbval-kernel-startup-timeout=120
# The notebooks a newcomer runs first, checked offline with nothing found (make course-offline, CI).
OFFLINE_NOTEBOOKS ?= notebooks/00_*.ipynb notebooks/_template*.ipynb
WEEK ?=
SLUG ?=

.PHONY: setup course course-offline test test-unit lab export export-check lint bench colab-links strip lock clean help site site-check slides

help:
	@echo "make course [WEEK=week08_simclr]  run the notebooks in fast mode into build/ and print a table"
	@echo "make test                         unit tests + every notebook (nbval)"
	@echo "make course-offline               start-here + templates offline with no data: digits fallback must pass"
	@echo "make site                         the website: executed notebooks (make course's, else run) → build/site/site"
	@echo "make slides WEEK=week03_deepcluster  reveal.js decks of a week's executed notebooks → build/slides/WEEK"
	@echo "make lab | export | lint | bench | colab-links SLUG=owner/repo [REF=v1.0] | strip | lock | clean"

$(STAMP): requirements-lock.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sslstudy)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

course: $(STAMP)
	$(PY) -m sslstudy data
	$(PY) -m sslstudy course $(if $(WEEK),--week $(WEEK))

# The offline default, as a newcomer without data meets it: empty data and cache folders, no download, the
# digits fallback allowed, a fresh checkpoint folder. Every notebook must fall back to digits and pass.
course-offline: $(STAMP)
	@tmp=$$(mktemp -d) && mkdir -p "$$tmp/data" "$$tmp/cache" "$$tmp/checkpoints" && \
	echo "offline default: SSL_DATA_DIR=$$tmp/data XDG_CACHE_HOME=$$tmp/cache (empty), SSL_STRICT_DATA and SSL_DOWNLOAD unset" && \
	env -u SSL_STRICT_DATA -u SSL_DOWNLOAD SSL_DATA_DIR="$$tmp/data" XDG_CACHE_HOME="$$tmp/cache" \
	  SSL_CHECKPOINT_DIR="$$tmp/checkpoints" $(PY) -m sslstudy course --out build/offline \
	  --notebooks $(foreach g,$(OFFLINE_NOTEBOOKS),'$(g)'); rc=$$?; rm -rf "$$tmp"; \
	[ $$rc -eq 0 ] || exit $$rc; \
	for nb in $$($(PY) -m sslstudy course --list --notebooks $(foreach g,$(OFFLINE_NOTEBOOKS),'$(g)')); do \
	  grep -q "FALLING BACK TO" "build/offline/$$nb" || { echo "$$nb passed offline without the digits fallback"; exit 1; }; \
	done; echo "offline default: every notebook fell back to digits and passed"

# MPLBACKEND=Agg only here: nbval keeps no outputs. make course and make lab keep Jupyter's inline figures.
test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest tests $(NOTEBOOKS) $(PYTEST_NB)

test-unit: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest tests

# JupyterLab is in requirements-lock.txt, so this works offline once make setup has run.
lab: $(STAMP)
	$(PY) -m jupyter lab

export: $(STAMP)
	$(PY) -m sslstudy export

export-check: $(STAMP)
	$(PY) -m sslstudy export --check

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools $(NOTEBOOKS)

bench: $(STAMP)
	$(PY) benchmarks/run.py

colab-links: $(STAMP)
	@test -n "$(SLUG)" || { echo "usage: make colab-links SLUG=owner/repo [REF=v1.0]"; exit 1; }
	$(PY) -m sslstudy colab-links $(SLUG) $(if $(REF),--ref $(REF))

# The website from the executed notebooks (make course's copies in build/ when current, else they are run).
site: $(STAMP)
	$(PY) -m sslstudy site

# CI's site check: the notebooks make course-offline executed (start here + templates) and one week executed here
# on the real data (SITE_WEEK, the quickest), built into a site and checked.
SITE_WEEK ?= week04_vqvae
site-check: $(STAMP)
	$(PY) -m sslstudy course --notebooks '$(SITE_WEEK)/*.ipynb' --out build/offline
	$(PY) -m sslstudy site --executed build/offline --out build/site-check --no-execute \
	  --notebooks $(foreach g,$(OFFLINE_NOTEBOOKS),'$(g)') '$(SITE_WEEK)/*.ipynb'

slides: $(STAMP)
	@test -n "$(WEEK)" || { echo "usage: make slides WEEK=week03_deepcluster"; exit 1; }
	$(PY) -m sslstudy slides --html $(WEEK)

strip: $(STAMP)
	$(PY) -m sslstudy strip

# Re-resolve requirements-lock.txt from requirements.in (needs the package index and pip only, not the old lock).
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	mkdir -p build
	$(PY) -m pip install --dry-run --ignore-installed --quiet --report build/lock.json -r requirements.in
	$(PY) tools/write_lock.py build/lock.json requirements-lock.txt

clean:
	rm -rf build .pytest_cache
