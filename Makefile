# Two entry points, both from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint install tools browser clean

# The compiled hot loops (reserves/liabilities/_bulk.c) link OpenSSL's libcrypto: its headers come
# from Debian's libssl-dev when the machine lacks them (needs root).
$(STAMP): pyproject.toml setup.py reserves/liabilities/_bulk.c
	@test -f /usr/include/openssl/sha.h || { \
	  echo "installing libssl-dev (Debian package) for reserves/liabilities/_bulk.c"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

install: $(STAMP)

# Test tools from npm: anvil (a local Ethereum node) and solc (the Solidity compiler).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

tools: $(NODE_STAMP)

# Headless Chromium renders the HTML report in the tests (Debian's package; needs root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the report rendering test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check reserves tests benchmarks scripts
	$(BIN)/ruff format --check reserves tests benchmarks scripts
	$(BIN)/mypy

# pytest exits 5 when it collected no test: that must fail loudly, never pass empty.
test: lint tools browser
	node scripts/compile_contracts.js --check
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest ran no tests" >&2; exit 1; fi; \
	exit $$status

clean:
	rm -rf $(VENV) node_modules out build reserves/liabilities/_bulk.*.so
