# Two entry points for a fresh machine (Python 3.11, pip, make):
#   make render   set up and render the built-in profiles into output/
#   make test     set up and run ruff, mypy and the tests (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: render test lint bench clean engines engine-test dist browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

render: $(VENV)/.installed
	$(BIN)/difygen render --all

lint: $(VENV)/.test-installed
	$(BIN)/ruff check generator tests bench
	$(BIN)/mypy

# The real engines the engine tests run (docs/engines.md): kubeconform, kwok and a control
# plane at the pinned Kubernetes version, built with Go from the module proxy into a cache
# outside the repository. Only the first build on a machine pays.
engines: $(VENV)/.test-installed
	$(BIN)/python tests/engines/tools.py

test: lint engines browser
	$(BIN)/python -m pytest

engine-test: engines
	$(BIN)/python -m pytest -m engines

# The explain --format html test draws the page in a real headless Chromium (Debian's
# `chromium` package); install it on a fresh machine. Needs root (as in CI) or sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# The wheel and sdist a user installs (README, "Install").
dist: $(VENV)/.test-installed
	$(BIN)/python -m build --outdir dist

bench: $(VENV)/.test-installed
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
