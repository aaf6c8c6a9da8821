# Two commands on a fresh machine: `make run` (the app on SQLite, seeded) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint format bench profile

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

# The browser tests need Chromium: ensure-browser.sh finds one or installs Debian's.
test: install
	CHROMIUM="$$(scripts/ensure-browser.sh)" && export CHROMIUM && \
	scripts/with-test-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Starts gunicorn on PostgreSQL and a separate load process; writes bench/results/.
bench: install
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	scripts/with-test-postgres.sh $(PY) bench/run_bench.py $(BENCH_ARGS)

# Where a booking's CPU time goes: py-spy samples one busy gunicorn worker.
profile: install
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	scripts/with-test-postgres.sh $(PY) bench/profile.py $(PROFILE_ARGS)
