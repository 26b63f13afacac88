# Two entry points, both self-installing into ./.venv:
#   make run   validate the catalog, print its statistics, run the experiments (quick profile) and
#              build the website into build/site
#   make test  run the whole test suite (installs Debian's chromium for the browser tests when missing)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SINS := $(VENV)/bin/sins
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's chromium drives the browser tests (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: install
	$(SINS) catalog validate
	$(SINS) catalog stats
	$(SINS) experiments run --profile quick
	$(SINS) site build --out build/site

test: install browser
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/catalog.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
