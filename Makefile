# The two commands a newcomer runs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := node_modules/.installed

.PHONY: demo test lint browser ocr clean

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

# Run-time tool: Debian's Tesseract with its English and Welsh data, which reads scanned PDF
# pages (crawler/ocr.py). Without it the crawl still runs and says "OCR unavailable" for them.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym
ocr:
	@{ command -v tesseract && tesseract --list-langs | grep -qx cym \
	    && tesseract --list-langs | grep -qx eng; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; \
	  else echo "Tesseract or its English/Welsh data is missing: run" \
	    "'sudo apt-get install $(OCR_PACKAGES)' (scanned PDFs are read with it)"; fi; }

$(TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(TOOLS)

# `make demo PORT=8010` serves on another port.
demo: $(STAMP) ocr
	$(VENV)/bin/hubsearch demo --config examples/demo-hub/config.toml $(if $(PORT),--port $(PORT))

test: $(STAMP) $(TOOLS) browser ocr
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules examples/demo-hub/data
