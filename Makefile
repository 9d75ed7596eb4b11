# Two commands matter: `make demo` and `make test`. Both build .venv from requirements.lock (runtime) and
# requirements-test.lock (pytest, SeaweedFS) first. A plant server gets the runtime only: `make install`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-site

PREFIX ?= $(CURDIR)/.venv

.PHONY: demo test bench venv install clean

venv: $(STAMP)

$(STAMP): requirements.lock requirements-test.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The plant server: runtime dependencies only, into $(PREFIX) (default .venv of this checkout; with the
# repository at /opt/nova that is where the systemd units look). Prints what it occupies.
install: requirements.lock pyproject.toml
	$(PY) -m venv $(PREFIX)
	$(PREFIX)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PREFIX)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation .
	@echo "installed into $(PREFIX): $$(du -sh $(PREFIX) | cut -f1)"

demo: $(STAMP)
	$(BIN)/nova-pipeline demo $(DEMO_DIR)
	$(BIN)/nova-tui --config $(DEMO_DIR)/config.toml

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python bench/build.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/watch.py
	$(BIN)/python bench/remote.py
	$(BIN)/python bench/sites.py
	$(BIN)/python bench/tui.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out
