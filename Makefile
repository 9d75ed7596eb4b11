# Two commands matter: `make demo` and `make test`. Both build .venv from requirements.lock first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-site

.PHONY: demo test bench venv clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

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
	$(BIN)/python bench/tui.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out
