# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser screenshots run test lint types unit clean record-histories chaos load bench

install: $(STAMP)

# Re-install whenever the project's metadata changes; a plain `make test` on a fresh clone
# creates the virtualenv first.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found (set PYTHON=...)" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The browser tests (tests/web/) drive Debian's chromium; a Chinese font makes the pages (and
# their screenshots) show characters, not boxes. Installed from Debian when missing.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@missing=$$(for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "make: installing $$missing from Debian (browser tests)"; \
		$$sudo apt-get install -y -q $$missing >/dev/null || \
			{ $$sudo apt-get update -q >/dev/null && $$sudo apt-get install -y -q $$missing >/dev/null; }; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy domain contracts activities adapters db workflows service api web cli policies notifications simulator \
		harness worker.py tests bench

unit: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint types unit

# The Temporal dev server (UI on :8233), migrations, the worker, the API (:8000), the schedules
# and the demo cases; Ctrl-C stops.
run: install
	@$(BIN)/retirement dev run

# Add the histories of every demo path to the replay corpus as version N (docs/versioning.md).
record-histories: install
	@test -n "$(VERSION)" || { echo "usage: make record-histories VERSION=<n>" >&2; exit 2; }
	@test ! -e tests/workflows/histories/v$(VERSION) || { echo "v$(VERSION) exists" >&2; exit 2; }
	$(BIN)/retirement demo --record-histories tests/workflows/histories/v$(VERSION) > /dev/null

# Cases in flight while the worker is SIGKILLed, the dev server restarted, a department's system
# down and the database connections cut; prints the figures and fails on any loss, duplicate or
# drift. CASES=n for a bigger run; DATABASE=sqlite without PostgreSQL.
chaos: install
	$(BIN)/python -m harness.chaos --cases $(or $(CASES),24) --database $(or $(DATABASE),postgres)

# 1,000 cases through the HTTP API: employers declaring the same people at once, 50 clerks
# competing for tasks; fails on any 5xx, lost or doubled decision, duplicate or drift.
load: install
	$(BIN)/python -m harness.load --cases $(or $(CASES),1000) --clerks $(or $(CLERKS),50) \
		--database $(or $(DATABASE),postgres)

# The service against the raw Temporal engine on this machine (docs/performance.md): its own dev
# server, worker and API on free ports; prints a table and writes var/bench/summary.json.
# OPEN_CASES=n for the scale phase (default 10000), CASES=n for throughput (default 40).
bench: install
	$(BIN)/python -m bench --open-cases $(or $(OPEN_CASES),10000) --cases $(or $(CASES),40)

# Each page at a phone's and a desktop's size, into docs/screenshots/ (shown in the README).
screenshots: install browser
	$(BIN)/python -m harness.screenshots

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis
