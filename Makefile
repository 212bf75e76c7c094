# Accord: the two entry points are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
SHARED ?= ../shared

VENV := .venv
UV := .cache/uv/bin/uv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
# Byte-compile at install: imports are then 2-3x faster for every `accord` command.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test env messages check-sys lint typecheck openapi conformance bench bench-scale bench-federation fuzz-federation fuzz-api a11y-all clean

## run: set up, migrate, load the demo data and serve Accord on http://127.0.0.1:$(PORT)
run: env messages
	$(VENV)/bin/accord demo
	$(VENV)/bin/accord serve --port $(PORT)

## test: set up, install and start what the tests need, run the suite on SQLite and PostgreSQL
test: env
	scripts/test-services.sh
	$(MAKE) --no-print-directory messages
	scripts/run-tests.sh

env: $(VENV)/.synced

$(UV):
	scripts/bootstrap-uv.sh $(PYTHON)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

messages: env
	@scripts/need-gettext.sh
	cd accord && ../$(VENV)/bin/django-admin compilemessages --settings=accord.settings -v 0

lint: env
	$(VENV)/bin/ruff check accord tests bench
	$(VENV)/bin/ruff format --check accord tests bench

typecheck: env
	$(VENV)/bin/mypy

## openapi: rewrite the committed OpenAPI document after an intended API change
openapi: env
	$(VENV)/bin/accord manage export_openapi > docs/openapi.json

## conformance: checks against the shared corpora (added by the alerts and surveillance issues)
conformance: env
	scripts/conformance.sh $(SHARED)

## bench: benchmarks against peers measured in the same run (see docs/benchmarks.md)
bench: env
	@test -x .cache/bench/bin/python || { $(PYTHON) -m venv .cache/bench && \
	  .cache/bench/bin/pip install -q --no-deps capparselib==0.6.6 && .cache/bench/bin/pip install -q lxml python-dateutil; }
	$(VENV)/bin/python bench/cap_ingest.py --corpus $(SHARED)/cap/corpus
	@Rscript -e 'suppressMessages(library(surveillance))' >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "bench: installing R and surveillance (apt-get install r-base-core r-cran-surveillance)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-surveillance >/dev/null; \
	  else echo "bench: R with surveillance is missing (not root: not installed); detect ratios will not be measured"; fi; }
	$(VENV)/bin/python bench/detect.py
	$(VENV)/bin/python bench/api_scale.py --count 2000 --requests 80 --database accord_bench_scale_small

## bench-scale: COUNT alerts (default a million) on PostgreSQL, read by 8 clients against the bare SQL (docs/benchmarks.md)
COUNT ?= 1000000
bench-scale: env
	$(VENV)/bin/python bench/api_scale.py --count $(COUNT) $(BENCH_SCALE_ARGS)

## bench-federation: 10 local nodes: publish -> all peers latency, catch-up after a partition (see docs/benchmarks.md)
bench-federation: env
	$(VENV)/bin/python bench/federation.py

## fuzz-federation: the federation simulation (tests/federation/test_simulation.py) with 10,000 examples, not 200
fuzz-federation: env
	env -u DATABASE_URL ACCORD_FUZZ_EXAMPLES=$${ACCORD_FUZZ_EXAMPLES:-10000} \
	  $(VENV)/bin/pytest tests/federation/test_simulation.py -q -p no:cacheprovider

## fuzz-api: schemathesis over the whole API (tests/test_api_fuzz.py) with 1,000 examples an operation, not 20
fuzz-api: env
	env -u DATABASE_URL DJANGO_ALLOW_ASYNC_UNSAFE=true ACCORD_FUZZ_API_EXAMPLES=$${ACCORD_FUZZ_API_EXAMPLES:-1000} \
	  $(VENV)/bin/pytest tests/test_api_fuzz.py -q -p no:cacheprovider

## a11y-all: axe-core over every main page in every one of the eleven languages (the suite checks each page in English
## and in one other language, and the most used pages in all)
a11y-all: env
	scripts/test-services.sh
	$(MAKE) --no-print-directory messages
	env -u DATABASE_URL DJANGO_ALLOW_ASYNC_UNSAFE=true ACCORD_A11Y_LANGUAGES=all \
	  $(VENV)/bin/pytest tests/web/test_a11y_browser.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
