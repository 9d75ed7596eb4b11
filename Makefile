# Two commands matter: `make demo` and `make test`. Both build .venv from requirements.lock (runtime) and
# requirements-test.lock (pytest, SeaweedFS) first. A plant server gets the runtime only: `make install`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-site

PREFIX ?= $(CURDIR)/.venv

WHEELS ?= wheels

.PHONY: demo test bench venv install wheels install-offline clean

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

# For a plant server without the package index: on a machine with it, `make wheels` writes every
# pinned runtime wheel and this package's own wheel into $(WHEELS); carry that folder over, then
# `make install-offline WHEELS=DIR` installs from it alone (pip --no-index: no network at all).
wheels: requirements.lock pyproject.toml
	$(PY) -m venv $(WHEELS)/.build-venv
	$(WHEELS)/.build-venv/bin/python -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
		--no-deps -r requirements.lock -d $(WHEELS)
	$(WHEELS)/.build-venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
		--upgrade --find-links $(WHEELS) -c requirements.lock setuptools
	$(WHEELS)/.build-venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation -w $(WHEELS) .
	rm -rf $(WHEELS)/.build-venv
	cp requirements.lock $(WHEELS)/
	@echo "$$(ls $(WHEELS)/*.whl | wc -l) wheels in $(WHEELS) ($$(du -sh $(WHEELS) | cut -f1)): copy the folder to the plant server"

install-offline:
	@test -f $(WHEELS)/requirements.lock || { echo "no wheels in $(WHEELS): run 'make wheels WHEELS=$(WHEELS)' where the index is reachable"; exit 2; }
	$(PY) -m venv $(PREFIX)
	PIP_CONFIG_FILE=/dev/null $(PREFIX)/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
		--find-links $(WHEELS) -r $(WHEELS)/requirements.lock
	PIP_CONFIG_FILE=/dev/null $(PREFIX)/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
		--find-links $(WHEELS) --no-deps nova-corrente
	@echo "installed offline into $(PREFIX): $$(du -sh $(PREFIX) | cut -f1)"

demo: $(STAMP)
	$(BIN)/nova-pipeline demo $(DEMO_DIR)
	$(BIN)/nova-tui --config $(DEMO_DIR)/config.toml

# The whole suite, on TEST_WORKERS processes (pytest-xdist; each builds its own session fixtures). Two halve
# it on this 2-core machine: 11 min 41 s in one process, 5 min 53 s in two (the end-to-end tests wait on
# servers and daemons much of their time). TEST_WORKERS=0 runs it in this process, as --snapshot-update needs.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

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
