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
# downloads a browser of its own), Debian's nginx for the reverse-proxy test, and axe-core
# from npm for the accessibility check.
browser:
	@{ command -v chromium && { command -v nginx || test -x /usr/sbin/nginx; }; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium nginx-light >/dev/null; \
	  else echo "Chromium or nginx is missing: run 'sudo apt-get install chromium nginx-light'" \
	    "(the browser and reverse-proxy tests need them)"; fi; }

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
