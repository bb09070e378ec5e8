# The README's commands: `make test` (the whole check) and `make demo` (the main job on the fake); `make help`
# lists every target. Each creates .venv on first use and reinstalls when pyproject.toml changes: `make demo`
# installs the package's runtime dependencies only, the other targets the dev extras too.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime

.DEFAULT_GOAL := help
.PHONY: help test lint typecheck unit demo bench docs clean snippets-runtime

help: ## list the targets
	@echo "make TARGET (the targets that run something create $(VENV) on first use):"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ordercloud-tracking with its dev extras into $(VENV) (a minute or two the first time) ..."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME_STAMP)

# What the demo needs and nothing more: the package, its runtime dependencies (httpx, pydantic, attrs) and the
# kafka extra (confluent-kafka, whose wheel ships librdkafka and its mock cluster) for the demo's Kafka leg.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ordercloud-tracking (runtime dependencies and the kafka extra only) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e '.[kafka]'
	touch $(RUNTIME_STAMP)

lint: $(STAMP) ## ruff check and ruff format --check over src, tests, examples
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

# Then what an editor user sees over examples/ and tests/editor_types/ (the documented constructors and calls): mypy
# --strict without the pydantic plugin, and pyright --strict (what VS Code users get). The pyright wheel bundles
# pyright and runs it with the machine's node; PYRIGHT_PYTHON_IGNORE_WARNINGS skips its "newer version?" lookup.
typecheck: $(STAMP) ## mypy --strict (with and without the pydantic plugin), pyright --strict
	$(BIN)/mypy
	$(BIN)/mypy --config-file tests/editor_types/mypy-no-plugin.ini
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(BIN)/pyright --pythonpath $(BIN)/python

# The official OrderCloud JavaScript SDK, pinned by tests/contract/package-lock.json, for the fake's contract test.
JS_SDK := tests/contract/node_modules/.package-lock.json
$(JS_SDK): tests/contract/package-lock.json
	npm ci --prefix tests/contract --no-audit --no-fund --silent

# What the docs site ships itself instead of loading from a CDN (mermaid), pinned by docs/javascripts/package-lock.json.
DOCS_JS := docs/javascripts/node_modules/.package-lock.json
$(DOCS_JS): docs/javascripts/package-lock.json
	npm ci --prefix docs/javascripts --no-audit --no-fund --silent --ignore-scripts

# tests/test_site.py also needs Debian's Chromium (/usr/bin/chromium): `apt-get install -y chromium` (.ci/run does).
unit: $(STAMP) $(JS_SDK) $(DOCS_JS) ## pytest (doctests, the JS SDK contract test, the site in Chromium, every snippet)
	$(UNIT_ENV) $(BIN)/pytest

# The documentation site (mkdocs-material), built strictly: any warning fails the build.
docs: $(STAMP) $(DOCS_JS) ## build the documentation site into site/ (mkdocs --strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The site is built first, and tests/test_site.py looks at that build (DOCS_SITE_DIR) instead of building its own.
test: lint typecheck docs ## the whole check: lint, typecheck, docs, unit
	$(MAKE) --no-print-directory unit UNIT_ENV="DOCS_SITE_DIR=site"

demo: $(RUNTIME_STAMP) ## a complete tracking journey on the embedded fake, then its Kafka leg (runtime + kafka extra)
	$(BIN)/ordercloud-tracking demo

# README's blocks as a pip user runs them: a throwaway venv with `pip install .` (the package and its runtime
# dependencies only, no dev extras), then every block of README.md and docs/index.md run with its interpreter.
# Not part of `make test`: pip may need the network (or a warm cache) to build the wheel and fetch the deps.
snippets-runtime: $(STAMP) ## run README's code blocks in a fresh venv with the runtime dependencies only
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	echo "Installing ordercloud-tracking (runtime dependencies only) into a throwaway venv ..." && \
	$(PYTHON) -m venv "$$scratch/venv" && \
	"$$scratch/venv/bin/python" -m pip install --quiet . && \
	$(BIN)/python tests/test_snippets.py --python "$$scratch/venv/bin/python" README.md docs/index.md

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
