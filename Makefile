# Steward: two commands do everything.
#   make demo   install, migrate, seed realistic data, serve the portal with a Celery worker
#   make test   install with test extras and the headless browser, run the suite in phases
#               (docs/testing.md): pure tests once, database tests on SQLite, then on
#               PostgreSQL (when DATABASE_URL is set or REQUIRE_SERVICES=1)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CLIENT := clients/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(CLIENT)/pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
PG_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/test)
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: install demo serve test test-phases test-sqlite test-postgres lint format browser bench clean \
	security lock

# The project and its Python client (clients/python, the `steward-client` package), editable.
$(STAMP): pyproject.toml $(CLIENT)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e '$(CLIENT)[ml,serving,fast]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Debian's Chromium, driven by Playwright's Python package (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  echo "Installing Debian's fonts-dejavu-core for the signed reports"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; }

# DEBUG stays off: STEWARD_DEMO=1 is production's settings over plain HTTP on loopback, with a
# secret key made on first start under var/keys/ (portal/demo_settings.py).
demo: install
	STEWARD_DEMO=1 $(BIN)/python manage.py migrate --noinput
	STEWARD_DEMO=1 $(BIN)/python manage.py seed_demo
	STEWARD_DEMO=1 HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) scripts/demo.sh

# mypy imports the settings: a throwaway key, since DEBUG is off by default.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=mypy-only-not-a-secret-key-0123456789abcdefghij $(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser lint security test-phases

# No committed secret; no locked dependency with a known vulnerability (skipped with a notice
# when PyPI's advisory API is out of reach, unless STEWARD_REQUIRE_AUDIT=1).
security: install
	$(BIN)/python scripts/check_secrets.py
	$(BIN)/python scripts/audit_dependencies.py requirements.lock

# requirements.lock: every package `pip install .[test]` and the client bring into a clean venv.
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet '.[test]' '$(CLIENT)[ml,serving,fast]'
	{ echo '# Pinned by `make lock` from pyproject.toml; audited by `make security`.'; \
	  $(VENV)-lock/bin/python -m pip freeze --exclude-editable | grep -iv '^steward\(-client\)\?[= @]'; \
	} > requirements.lock
	rm -rf $(VENV)-lock

# The phases and their table: scripts/test_phases.py (STEWARD_TEST_WORKERS=0: no pytest-xdist).
PHASES := $(BIN)/python scripts/test_phases.py --postgres-url $(PG_URL) --redis-url $(REDIS_URL)

test-phases: install
	PYTEST_ARGS='$(PYTEST_ARGS)' $(PHASES)

test-sqlite: install
	PYTEST_ARGS='$(PYTEST_ARGS)' $(PHASES) --only pure,sqlite,postgresql-only-on-sqlite

# The PostgreSQL run also puts the Celery tests on Redis.
test-postgres: install
	PYTEST_ARGS='$(PYTEST_ARGS)' $(PHASES) --only postgresql,postgresql-serial

clean:
	rm -rf var artifacts .pytest_cache .ruff_cache
