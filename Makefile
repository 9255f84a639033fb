# The two commands a newcomer runs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := node_modules/.installed

.PHONY: demo test lint browser clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Test-only tools: Debian's Chromium for the browser test (Playwright drives it; it never
# downloads a browser of its own) and axe-core from npm for the accessibility check.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium' (browser tests need it)"; fi; }

$(TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(TOOLS)

# `make demo PORT=8010` serves on another port.
demo: $(STAMP)
	$(VENV)/bin/hubsearch demo --config examples/demo-hub/config.toml $(if $(PORT),--port $(PORT))

test: $(STAMP) $(TOOLS) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules examples/demo-hub/data
