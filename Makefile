# The README's commands: `make test` (the whole check) and `make demo` (the main job on the fake).
# Both create .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: test lint typecheck unit demo bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(STAMP)
	$(BIN)/mypy

# The official OrderCloud JavaScript SDK, pinned by tests/contract/package-lock.json, for the fake's contract test.
JS_SDK := tests/contract/node_modules/.package-lock.json
$(JS_SDK): tests/contract/package-lock.json
	npm ci --prefix tests/contract --no-audit --no-fund --silent

unit: $(STAMP) $(JS_SDK)
	$(BIN)/pytest

# The documentation site (mkdocs-material), built strictly: any warning fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck unit docs

demo: $(STAMP)
	$(BIN)/ordercloud-tracking demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis site

# `make bench`: benchmarks/ side by side with the peer SDK and raw httpx; writes docs/benchmarks.md.
# The peer `ordercloud-python` and the ASGI server `uvicorn` (with its `httptools` parser) are installed
# into the venv for benchmarking only (never dependencies of the package); once installed, no network
# is needed.
bench: $(STAMP)
	$(BIN)/python -c "import ordercloud" 2>/dev/null || $(BIN)/python -m pip install --quiet ordercloud-python
	$(BIN)/python -c "import uvicorn, httptools" 2>/dev/null || $(BIN)/python -m pip install --quiet uvicorn httptools
	$(BIN)/python benchmarks/run.py
