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

# What the docs site ships itself instead of loading from a CDN (mermaid), pinned by docs/javascripts/package-lock.json.
DOCS_JS := docs/javascripts/node_modules/.package-lock.json
$(DOCS_JS): docs/javascripts/package-lock.json
	npm ci --prefix docs/javascripts --no-audit --no-fund --silent --ignore-scripts

# tests/test_site.py also needs Debian's Chromium (/usr/bin/chromium): `apt-get install -y chromium` (.ci/run does).
unit: $(STAMP) $(JS_SDK) $(DOCS_JS)
	$(UNIT_ENV) $(BIN)/pytest

# The documentation site (mkdocs-material), built strictly: any warning fails the build.
docs: $(STAMP) $(DOCS_JS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The site is built first, and tests/test_site.py looks at that build (DOCS_SITE_DIR) instead of building its own.
test: lint typecheck docs
	$(MAKE) --no-print-directory unit UNIT_ENV="DOCS_SITE_DIR=site"

demo: $(STAMP)
	$(BIN)/ordercloud-tracking demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis site

# `make bench`: benchmarks/ side by side with the peer SDK and raw httpx; writes docs/benchmarks.md.
# The peer `ordercloud-python` is installed into the venv for benchmarking only (never a dependency
# of the package); once installed, no network is needed.
bench: $(STAMP)
	$(BIN)/python -c "import ordercloud" 2>/dev/null || $(BIN)/python -m pip install --quiet ordercloud-python
	$(BIN)/python benchmarks/run.py
