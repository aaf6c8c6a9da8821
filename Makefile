# Two commands on a fresh machine: `make run` (the app and its worker on SQLite, seeded)
# and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install messages run test fuzz lint lint-imports typecheck format bench profile

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# The Hindi catalogue (locale/hi): compiled with polib, no GNU gettext needed.
messages: $(VENV)/.installed
	$(PY) scripts/compile_messages.py

install: $(VENV)/.installed messages

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_practitioner_login  # the demo doctor's login
	DEBUG=$${DEBUG:-true} PY=$(PY) scripts/run-dev.sh  # web server + worker; Ctrl-C stops both

# The browser tests need Chromium: ensure-browser.sh finds one or gets one (Playwright, apt).
# Without PYTEST_ARGS: the part outside `slow` on TEST_WORKERS processes (pytest-xdist,
# each with a test database of its own), then the slow part alone, one test at a time
# (real servers, browsers, killed processes: they must not race each other for the CPU).
TEST_WORKERS ?= 2
test: install
	CHROMIUM="$$(VENV=$(VENV) scripts/ensure-browser.sh)" && export CHROMIUM && \
	scripts/with-test-postgres.sh $(PY) -m pytest \
	    $(if $(PYTEST_ARGS),$(PYTEST_ARGS),-m "not slow" -n $(TEST_WORKERS)) && \
	$(if $(PYTEST_ARGS),true,scripts/with-test-postgres.sh $(PY) -m pytest -m slow)

# The schema fuzz exploring: new random requests each run, 8× as many (make test sends the
# same ones every time). A failure prints its seed: PYTEST_ARGS=--hypothesis-seed=<it>.
fuzz: install
	FUZZ_PROFILE=explore scripts/with-test-postgres.sh $(PY) -m pytest tests/test_api_schema.py \
		-k fuzzing -p no:cacheprovider $(PYTEST_ARGS)

lint: install lint-imports typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs and djangorestframework-stubs over the app packages ([tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy

# The layers of shared/DESIGN.md (.importlinter): fails the build when an import points up.
lint-imports: install
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

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
