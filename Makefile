# The two commands a newcomer runs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := node_modules/.installed

.PHONY: demo test lint browser ocr opensearch-node clean FORCE

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

# Test-only: the OpenSearch test cluster's node (tools/opensearch_cluster), a jar of OpenSearch's
# server code from Maven Central and the classpath naming its jars in ~/.m2. Built here, not in a
# test, so the first run's download (~74 MB) is not inside a test's timeout: Maven offline first,
# online only if ~/.m2 lacks something. Rebuilt when pom.xml or src/ change, or when a jar the
# classpath names has gone from ~/.m2. Without Maven or Java it says so and the OpenSearch tests
# skip. Maven leaves an unchanged classpath.txt alone, hence the touch.
OS_NODE := tools/opensearch_cluster
OS_CLASSPATH := $(OS_NODE)/target/classpath.txt
OS_SOURCES := $(OS_NODE)/pom.xml $(shell find $(OS_NODE)/src -type f)
OS_JAR_GONE := $(shell [ ! -f $(OS_CLASSPATH) ] || { ls $(OS_NODE)/target/*.jar \
	&& tr ':' '\n' < $(OS_CLASSPATH) | xargs -d '\n' ls -d; } >/dev/null 2>&1 || echo gone)

opensearch-node: $(OS_CLASSPATH)

$(OS_CLASSPATH): $(OS_SOURCES) $(if $(OS_JAR_GONE),FORCE)
	@if ! command -v mvn >/dev/null || ! { command -v java || test -x "$$JAVA_HOME/bin/java"; } \
	    >/dev/null; then \
	  echo "Maven or Java 17 is missing: run 'sudo apt-get install maven openjdk-17-jdk-headless'" \
	    "(the OpenSearch cluster tests skip without them)"; \
	else mkdir -p $(OS_NODE)/target && cd $(OS_NODE) \
	  && { mvn -q -B -o package >target/maven-build.log 2>&1 \
	    || mvn -q -B package >>target/maven-build.log 2>&1 \
	    || { echo "Maven could not build the OpenSearch test node: see" \
	      "$(OS_NODE)/target/maven-build.log"; exit 1; }; } \
	  && touch target/*.jar target/classpath.txt; fi

FORCE:

$(TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(TOOLS)

# `make demo PORT=8010` serves on another port.
demo: $(STAMP) ocr
	$(VENV)/bin/hubsearch demo --config examples/demo-hub/config.toml $(if $(PORT),--port $(PORT))

# Two workers (pytest-xdist): most tests wait on loopback servers, crawls and the cluster, so
# two overlap well on two cores. tests/conftest.py keeps a module, and all of the OpenSearch
# cluster's tests, on one worker each.
test: $(STAMP) $(TOOLS) browser ocr opensearch-node
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules examples/demo-hub/data
