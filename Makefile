# Two entry points: `make run` and `make test`. Each creates the virtual environment
# and installs what it needs on first use, so a fresh machine with Python 3.11+ suffices.
# They install from lock files, not from pyproject.toml's ranges, so that every machine and
# CI get the same packages, byte for byte (pip checks each file's hash):
# requirements/run.txt is the bot's dependencies, requirements/test.txt adds the `test` extra.
# A lock file that changes is reinstalled on the next run. The project itself is not
# installed: it runs from the checkout (`python -m bot`, pytest's `pythonpath`, mypy's
# `packages` all resolve from the project root), so there is nothing to reinstall on edits.
#
# To add or change a dependency: edit pyproject.toml, run `make lock`, commit requirements/
# with it. `make lock` keeps every pin that still fits; `make lock LOCKFLAGS=--upgrade` moves
# all pins to the newest versions allowed. `make test` stops with a reminder if pyproject.toml
# asks for something the lock file does not have.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# pip-compile runs in a venv of its own, so that the project's venv holds exactly what the
# lock says. pip-tools follows pip's internals, so both are pinned: the same pair writes the
# same lock files on every machine.
LOCK_VENV  := $(VENV)/lock-tools
LOCK_TOOLS := pip==26.3 pip-tools==7.6.2
# --allow-unsafe: pip and setuptools are pinned too if anything needs them, since
# --require-hashes refuses any package the lock file does not list. No index or find-links
# lines: the lock files name packages, not where this machine fetched them from.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	$(LOCKFLAGS)

.PHONY: run test lint typecheck bench lock clean deps check status backup rotate-key

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each stamp also depends on pyproject.toml, so that a dependency added there without
# `make lock` is caught (CHECK_LOCK, below) before anything runs.
$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -c "$$CHECK_LOCK" requirements/run.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	touch $@

$(VENV)/.installed-test: requirements/test.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -c "$$CHECK_LOCK" requirements/test.txt test
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	touch $@

run: $(VENV)/.installed-run
	$(BIN)/python -m bot

# The tools for whoever hosts the bot (README, "Running it for real"); like `make run`, they
# read .env. `make deps` only installs the bot's dependencies (for a service, or after an
# upgrade). `make backup` writes into backups/ (a file named by the time); `make backup
# BACKUP=path` writes that file (or into that folder).
deps: $(VENV)/.installed-run

check: $(VENV)/.installed-run
	$(BIN)/python -m bot check

status: $(VENV)/.installed-run
	$(BIN)/python -m bot status

backup: $(VENV)/.installed-run
	@if [ -z "$(BACKUP)" ]; then mkdir -p backups; fi
	$(BIN)/python -m bot backup "$(or $(BACKUP),backups/)"

rotate-key: $(VENV)/.installed-run
	$(BIN)/python -m bot rotate-key

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

$(LOCK_VENV)/bin/python:
	$(PYTHON) -m venv $(LOCK_VENV)

# pip-compile resolves for the interpreter it runs on, and the lock files are for Python 3.11
# on Linux (CI's and the servers'). test.txt is written first; run.txt is then held to its
# pins, so the bot runs with exactly the versions the tests ran with.
lock: | $(LOCK_VENV)/bin/python
	@$(LOCK_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) or sys.platform != "linux")' \
		|| { echo "make lock: needs Python 3.11 on Linux; try: rm -rf $(LOCK_VENV); make lock PYTHON=python3.11" >&2; exit 1; }
	$(LOCK_VENV)/bin/python -m pip install --quiet $(LOCK_TOOLS)
	@mkdir -p requirements
	$(PIP_COMPILE) --extra test --output-file requirements/test.txt pyproject.toml
	$(PIP_COMPILE) --constraint requirements/test.txt --output-file requirements/run.txt pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Every package that pyproject.toml asks for (its dependencies, plus the extras named after
# the lock file) must be pinned in the lock file at a version its range allows.
define CHECK_LOCK
import re, sys, tomllib
from pip._vendor.packaging.requirements import Requirement
lock, extras = sys.argv[1], sys.argv[2:]
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
pins = dict((norm(n), v) for n, v in re.findall(r"^([\w.-]+)==([^ ;\\]+)", open(lock).read(), re.M))
stale = [str(r) for r in map(Requirement, wanted) if (not r.marker or r.marker.evaluate())
         and not (norm(r.name) in pins and r.specifier.contains(pins[norm(r.name)], prereleases=True))]
if stale:
    sys.exit(f"{lock} does not satisfy {', '.join(stale)} from pyproject.toml: run `make lock`")
endef
export CHECK_LOCK
