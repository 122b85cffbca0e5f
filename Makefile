# Two entry points for a fresh clone: `make demo` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml web/package-lock.json web/src/dashboard.js
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install demo test lint
install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/hltracker demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check hltracker tests

test: lint
	$(PY) -m pytest
