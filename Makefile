# Two entry points, both self-installing into ./.venv:
#   make run   validate the catalog and print its statistics (the main job)
#   make test  run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SINS := $(VENV)/bin/sins
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(SINS) catalog validate
	$(SINS) catalog stats

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/catalog.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
