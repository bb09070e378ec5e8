# The README's commands: `make test` (the whole check) and `make demo` (the main job on the fake); `make help`
# lists every target. Each creates .venv on first use and reinstalls when pyproject.toml changes: `make demo`
# installs the package's runtime dependencies only, the other targets the dev extras too.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime

.DEFAULT_GOAL := help
.PHONY: help test lint typecheck unit demo bench docs clean

help: ## list the targets
	@echo "make TARGET (the targets that run something create $(VENV) on first use):"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ordercloud-tracking with its dev extras into $(VENV) (a minute or two the first time) ..."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME_STAMP)

# What the demo needs and nothing more: the package and its runtime dependencies (httpx, pydantic, attrs).
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ordercloud-tracking (runtime dependencies only) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

lint: $(STAMP) ## ruff check and ruff format --check over src, tests, examples
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(STAMP) ## mypy --strict over src, tests, examples
	$(BIN)/mypy

# The official OrderCloud JavaScript SDK, pinned by tests/contract/package-lock.json, for the fake's contract test.
JS_SDK := tests/contract/node_modules/.package-lock.json
$(JS_SDK): tests/contract/package-lock.json
	npm ci --prefix tests/contract --no-audit --no-fund --silent

unit: $(STAMP) $(JS_SDK) ## pytest (doctests and the JS SDK contract test included; npm installs the pinned SDK)
	$(BIN)/pytest

# The documentation site (mkdocs-material), built strictly: any warning fails the build.
docs: $(STAMP) ## build the documentation site into site/ (mkdocs --strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck unit docs ## the whole check: lint, typecheck, unit, docs

demo: $(RUNTIME_STAMP) ## a complete tracking journey on the embedded fake (runtime dependencies only)
	$(BIN)/ordercloud-tracking demo

clean: ## remove the venv, caches and the built site
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis site

# `make bench`: benchmarks/ side by side with the peer SDK and raw httpx; writes docs/benchmarks.md.
# The peer `ordercloud-python` and the ASGI server `uvicorn` (with its `httptools` parser) are installed
# into the venv for benchmarking only (never dependencies of the package); once installed, no network
# is needed.
bench: $(STAMP) ## benchmarks against the peer SDK, raw httpx and raw receivers; writes docs/benchmarks.md
	$(BIN)/python -c "import ordercloud" 2>/dev/null || $(BIN)/python -m pip install --quiet ordercloud-python
	$(BIN)/python -c "import uvicorn, httptools" 2>/dev/null || $(BIN)/python -m pip install --quiet uvicorn httptools
	$(BIN)/python benchmarks/run.py
