# Two entry points for a fresh machine (Python 3.11, pip, make):
#   make render   set up and render the built-in profiles into output/
#   make test     set up and run ruff, mypy and the tests (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: render test lint bench clean

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

# kubeconform (Go module proxy) for the test that runs the documented kubeconform command;
# without Go the test is skipped.
KUBECONFORM_VERSION ?= v0.6.7
$(BIN)/kubeconform: | $(BIN)/python
	-command -v go >/dev/null && GOBIN=$(abspath $(BIN)) go install \
	  github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

test: lint $(BIN)/kubeconform
	$(BIN)/python -m pytest

bench: $(VENV)/.test-installed
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
