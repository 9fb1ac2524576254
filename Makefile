# tlsinspect: two commands do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAMPLE ?= pcaps/cisco_lab_mix.pcapng
JOBS ?= 2

.PHONY: setup tshark run test samples bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

tshark:
	@command -v tshark >/dev/null 2>&1 || { \
	  echo "installing Debian's tshark"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tshark >/dev/null; }

setup: $(STAMP) tshark

run: setup
	$(BIN)/tlsinspect $(SAMPLE)

test: setup
	$(BIN)/pytest -n $(JOBS) tests

samples: setup
	$(BIN)/python -m inspector.synth.samples pcaps

bench: setup
	$(BIN)/python bench/run.py

fuzz: setup
	$(BIN)/python tests/fuzz.py --seconds $${FUZZ_SECONDS:-600}

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
