# tlsinspect: two commands do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAMPLE ?= pcaps/cisco_lab_mix.pcapng
JOBS ?= 2

# The extension module inspector._core, built from rust/ (rebuilt when a Rust source changes).
EXT_SUFFIX := $(shell $(PY) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
EXT := inspector/_core$(EXT_SUFFIX)
RUST_SRC := $(shell find rust -path rust/target -prune -o \( -name '*.rs' -o -name Cargo.toml \) -print) rust/Cargo.lock

.PHONY: setup tshark chromium run test test-rust samples bench fuzz fuzz-rust clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,test]'  # all: what the README's examples need (notebook, DuckDB, Dask)
	touch $(STAMP)

tshark:
	@command -v tshark >/dev/null 2>&1 || { \
	  echo "installing Debian's tshark"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tshark >/dev/null; }

# Debian's chromium: the HTML report's browser test (tests/integration/test_html_browser.py) opens it headless.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

$(EXT): $(STAMP) $(RUST_SRC)
	cd rust && PYO3_PYTHON=$(abspath $(BIN)/python) cargo build --release --locked -q -p tlsinspect-py
	cp rust/target/release/lib_core.so $(EXT)

setup: $(STAMP) $(EXT) tshark chromium

run: setup
	$(BIN)/tlsinspect $(SAMPLE)

test-rust:
	cd rust && cargo test --locked -q -p tlsinspect-core

# PYTHONDONTWRITEBYTECODE set by the environment would make every run re-compile (and pytest
# re-rewrite) each test module in every worker, ~8 s per run: the suite keeps its bytecode
# (__pycache__/ is ignored by git).
test: setup test-rust
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(JOBS) tests

samples: setup
	$(BIN)/python -m synth.samples pcaps

# make bench [SIZE=100m|1g|3g] [RUNS=3]: Rust engine, Python engine, tshark and cat in one run
bench: setup
	$(BIN)/python bench/run.py $(if $(SIZE),--size $(SIZE)) $(if $(RUNS),--runs $(RUNS))

fuzz: setup fuzz-rust
	$(BIN)/python tests/fuzz/fuzzer.py --seconds $${FUZZ_SECONDS:-600}

# The Rust fuzz targets (rust/core/fuzz): every seeded runner (rust/core/tests/*_fuzz.rs) with
# FUZZ_ITERS mutations a seed, then, when cargo-fuzz is installed (`cargo install cargo-fuzz`;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain build it), libFuzzer for FUZZ_RUST_SECONDS a
# target from the same seeds. Crashes: rust/core/fuzz/artifacts/TARGET/.
FUZZ_TARGETS := capture link capture_link tls_records tls_session tcp dtls quic eap udp engine
FUZZ_DIR := $(abspath build/fuzz-rust)
fuzz-rust:
	cd rust && FUZZ_ITERS=$${FUZZ_ITERS:-20000} FUZZ_SEED_DIR=$(FUZZ_DIR)/seeds cargo test --locked --release \
	  --no-fail-fast -q -p tlsinspect-core --test '*_fuzz' -- --test-threads $(JOBS)
	@if cargo fuzz --version >/dev/null 2>&1; then \
	  cd rust/core/fuzz && for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t; \
	    case $$t in capture*) seeds=$(abspath pcaps);; *) seeds=$(FUZZ_DIR)/seeds/$$t;; esac; \
	    RUSTC_BOOTSTRAP=1 cargo fuzz run $$t $(FUZZ_DIR)/corpus/$$t $$seeds -- \
	      -max_total_time=$${FUZZ_RUST_SECONDS:-120} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	      > $(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
	    echo "$$t: $$(grep -h stat::number_of_executed_units $(FUZZ_DIR)/$$t.log) exit $$rc"; \
	    [ $$rc = 0 ] || { tail -40 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	  done; \
	else echo "cargo-fuzz is not installed: only the seeded runners ran"; fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis rust/target $(EXT)
