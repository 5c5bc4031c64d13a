# vdsotui: `make run` opens the console, `make test` runs every test suite.
# Both set up what they need first; re-running is fast when nothing changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := build/stamps

.PHONY: all setup bytecode run test lint test-kernel bench bench-helper bench-tui bench-criu \
	screenshots install uninstall install-helper fuzz kernel-debug-test kernel-bisect criu-test helper subjects clean

all: setup

setup: $(STAMPS)/apt $(STAMPS)/venv bytecode helper subjects

# Missing Debian packages are installed only when running as root; otherwise
# the list of what is missing is printed and the build goes on.
$(STAMPS)/apt: deps/apt-packages.txt scripts/apt-deps.sh
	@mkdir -p $(STAMPS)
	scripts/apt-deps.sh deps/apt-packages.txt
	@touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/apt
	@mkdir -p $(STAMPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# The package is installed editable, and this machine's Python may be told
# not to write bytecode (PYTHONDONTWRITEBYTECODE): compile it here, as an
# install would, so that a command does not compile its modules each run.
bytecode: $(STAMPS)/venv
	$(PY) -m compileall -q vdsotui

helper: $(STAMPS)/apt
	$(MAKE) -C helper

subjects: $(STAMPS)/apt
	$(MAKE) -C tests/subjects

run: setup
	$(VENV)/bin/vdsotui

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check vdsotui tests bench
	$(VENV)/bin/ruff format --check vdsotui tests bench
	$(VENV)/bin/mypy vdsotui

# `make test` builds (or finds cached) the patched 7.3 and 6.12 kernels and
# boots them in the background while the host suites run: the series' and
# the kernel's vdso selftests in both, and in 7.3 the subjects' suite and the
# helper's kernel-path suites on the syscall path. `make test-kernel` adds
# the helper's policy suites in the guest and the benchmark's smoke run.
test: setup lint
	$(PY) -m pytest -ra tests --ignore=tests/kernel/test_guest_bench.py

test-kernel: setup
	$(MAKE) -C kernel-patch test

bench: setup
	$(PY) bench/bench_scan.py

bench-helper: setup
	$(PY) bench/bench_helper.py

bench-tui: setup
	$(PY) bench/bench_tui.py

# CRIU restore time in the 7.3 guest, patched against 4.1.1 (integrations/criu).
bench-criu: setup
	$(PY) bench/bench_criu.py

screenshots: setup
	$(PY) screenshots/generate.py screenshots

install-helper: helper
	$(MAKE) -C helper install

# For every user (root): a venv under $(PREFIX)/lib/vdsotui, the entry point,
# the setuid helper and both man pages; `make uninstall` removes them.
PREFIX ?= /usr/local
install: $(STAMPS)/apt helper
	scripts/install.sh install $(PREFIX)

uninstall:
	scripts/install.sh uninstall $(PREFIX)

fuzz: setup
	$(MAKE) -C helper/fuzz fuzz

kernel-debug-test: setup
	$(MAKE) -C kernel-patch debug-test

kernel-bisect: setup
	$(MAKE) -C kernel-patch bisect

# CRIU in both guests alone (`make test` runs it too): integrations/criu.
criu-test: setup
	$(PY) -m pytest -ra tests/kernel/test_guest_criu.py tests/kernel/test_guest_criu_cross.py

clean:
	rm -rf build helper/build tests/subjects/build tests/helper/build
