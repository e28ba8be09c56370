# Kefu: `make run` starts the system with demo data on SQLite; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
KEFU := $(BIN)/python -m kefu
PORT ?= 8000
export KEFU_DATA_DIR ?= $(CURDIR)/var

.PHONY: install bench-install run worker demo bench-seed bench test test-pg lint messages clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	mkdir -p $(KEFU_DATA_DIR)
	touch $@

install: $(BIN)/.installed

# The load generator (locust) of bench/load.py lives apart: its gevent and Jinja2 must not be
# imported by the web and worker processes it measures.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/.installed: bench/requirements.lock
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.lock
	touch $@

bench-install: $(BENCH_VENV)/bin/.installed

run: install
	mkdir -p $(KEFU_DATA_DIR)
	$(KEFU) migrate --noinput
	$(KEFU) demo
	@# The worker (notification delivery, sweeps) runs beside the web server and stops with it.
	$(KEFU) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(KEFU) serve --port $(PORT)

# The background worker alone (a second machine, or a second terminal).
worker: install
	$(KEFU) worker

demo: install
	$(KEFU) migrate --noinput
	$(KEFU) demo

# A year of a ten-site centre for the benchmarks (bench/README.md): TICKETS=1000000 by default,
# on the database DATABASE_URL names (else SQLite in KEFU_DATA_DIR). ARGS="--reset" to redo it.
TICKETS ?= 1000000
bench-seed: install
	mkdir -p $(KEFU_DATA_DIR)
	$(KEFU) migrate --noinput
	$(KEFU) bench-seed --tickets $(TICKETS) $(ARGS)

# Every benchmark (bench/README.md) on the database DATABASE_URL names, else SQLite in KEFU_DATA_DIR;
# an empty one is seeded with 1,000,000 tickets and indexed first (about 15 min). ARGS="--only search".
bench: install bench-install
	mkdir -p $(KEFU_DATA_DIR)
	$(BIN)/python bench/run.py --prepare $(ARGS)

lint: install
	mkdir -p $(KEFU_DATA_DIR)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kefu
	$(KEFU) makemigrations --check --dry-run

# The whole suite on SQLite (or on the database DATABASE_URL names).
test: lint bench-install
	$(BIN)/pytest -n 2 -p no:cacheprovider

# The whole suite again on PostgreSQL (CI runs both).
test-pg: install bench-install
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/kefu} $(BIN)/pytest -n 2 -p no:cacheprovider

clean:
	rm -rf $(VENV) $(BENCH_VENV) var

# Refresh the English catalog after changing UI strings (Chinese msgids, see docs/decisions/0002).
messages: install
	cd kefu && PYTHONPATH=$(CURDIR) DJANGO_SETTINGS_MODULE=kefu.settings ../$(BIN)/python -m django makemessages -l en \
		-i "demo/*" -i "*/api.py" -i "api.py" -i "*/tests/*" -i "customers/imports.py" -i "static/*"
	msgfmt --check -o kefu/locale/en/LC_MESSAGES/django.mo kefu/locale/en/LC_MESSAGES/django.po
