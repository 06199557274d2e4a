# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck pytest bench sizes fuzz clean \
	messages-extract messages-update messages-compile

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (set PYTHON=python3.x)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(MAKE) --no-print-directory messages-compile
	@touch $(STAMP)

install: $(STAMP)

## Serve the API on SQLite at http://127.0.0.1:8000 (docs at /docs).
run: install
	$(PY) -m service serve

## Lint, type-check and run the whole test suite.
test: install lint typecheck pytest

lint: install
	$(VENV)/bin/ruff check service tests migrations $(wildcard bench examples)
	$(VENV)/bin/ruff format --check service tests migrations $(wildcard bench examples)

typecheck: install
	$(VENV)/bin/mypy

## The suite runs on PYTEST_WORKERS processes (pytest-xdist; each has its own PostgreSQL
## database). PYTEST_WORKERS=0 runs it in this process, e.g. to use a debugger.
PYTEST_WORKERS ?= 2
pytest: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## Benchmarks against local PostgreSQL (needs wrk); writes docs/benchmarks.md. BENCH_ARGS="--only register --duration 3"
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

## Table and index sizes at 100k and 1M applicants (local PostgreSQL); writes docs/table_sizes.md.
sizes: install
	$(PY) bench/table_sizes.py

## Deeper schema fuzzing: FUZZ_EXAMPLES cases per operation, mode and role, then as many
## stateful scenarios (chains along the document's links), random seed.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-40} FUZZ_SEED=random $(PY) -m pytest -p no:cacheprovider -s \
		tests/reliability/test_fuzz.py $(PYTEST_ARGS)

## Messages (docs/api.md "Languages", CONTRIBUTING.md): msg("id", "English") calls and problem
## titles -> service/locale/messages.pot -> ur/LC_MESSAGES/messages.po (translate there) -> .mo.
LOCALE := service/locale
PYBABEL = $(VENV)/bin/pybabel

messages-extract: install
	$(PYBABEL) -q extract -F babel.cfg -k msg:1c,2 -k t:2c,3 --no-default-keywords --sort-by-file \
		--omit-header -w 100 -o $(LOCALE)/messages.pot service

messages-update: messages-extract
	$(PYBABEL) -q update -i $(LOCALE)/messages.pot -d $(LOCALE) -l ur --init-missing \
		--ignore-obsolete --ignore-pot-creation-date -w 100

## Compiled catalogues (.mo, not committed): built by `make install`; without them the
## service compiles the .po in memory at start-up.
messages-compile:
	$(PYBABEL) -q compile -d $(LOCALE) --statistics

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache enrollment.db* $(LOCALE)/*/LC_MESSAGES/*.mo
