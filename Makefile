# The two commands of the README: `make demo` starts the app with a seeded demo organization;
# `make test` runs every test. Both set up the virtualenv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1:8000

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

services:
	bash deploy/local-services.sh

bench: install services
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

.PHONY: install demo lint test services bench
