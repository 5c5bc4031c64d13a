# vdsotui: `make run` opens the console, `make test` runs every test suite.
# Both set up what they need first; re-running is fast when nothing changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := build/stamps

.PHONY: all setup run test lint test-kernel bench bench-helper bench-tui \
	screenshots install-helper fuzz kernel-debug-test helper subjects clean

all: setup

setup: $(STAMPS)/apt $(STAMPS)/venv helper subjects

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

# `make test` boots the patched 7.3 guest for the series' and the kernel's
# vdso selftests; `make test-kernel` runs every guest suite (6.12 too, the
# helper's suite on the syscall path, the benchmark).
GUEST_ONLY_IN_TEST_KERNEL := --ignore=tests/kernel/test_guest_helper.py \
	--ignore=tests/kernel/test_guest_bench.py

test: setup lint
	VDSOTUI_GUEST_VERSIONS=7.3 $(PY) -m pytest -ra tests $(GUEST_ONLY_IN_TEST_KERNEL)

test-kernel: setup
	$(MAKE) -C kernel-patch test

bench: setup
	$(PY) bench/bench_scan.py

bench-helper: setup
	$(PY) bench/bench_helper.py

bench-tui: setup
	$(PY) bench/bench_tui.py

screenshots: setup
	$(PY) -m vdsotui.tui.screenshots screenshots

install-helper: helper
	$(MAKE) -C helper install

fuzz: setup
	$(MAKE) -C helper/fuzz fuzz

kernel-debug-test: setup
	$(MAKE) -C kernel-patch debug-test

clean:
	rm -rf build helper/build tests/subjects/build
