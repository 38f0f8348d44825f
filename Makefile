# Two commands on a fresh machine:  make run   |   make test
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
FLASK   = $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-pg install clean bench-search

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) init-db
	$(FLASK) content load
	LAYANAN_SEARCH_THREADS=2 $(FLASK) search reindex
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest

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

bench-search: install
	$(PY) bench/search_quality.py
	$(PY) bench/search_eval.py
	$(PY) bench/search_latency.py
