# Two commands are the contract: `make demo` and `make test`.
# Both set up everything they need on a fresh Debian 12 machine (as root).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
APT_PACKAGES := build-essential pkg-config libsodium-dev libzbar0 valgrind tmux docker-registry skopeo \
                signify-openbsd minisign openssh-client openssl tar
APT_PACKAGES += man-db zsh
NATIVE_SRC := suites/frost/frost.c suites/frost/frost.h suites/frost/ed25519_vt.c suites/frost/ed25519_vt.h \
              suites/frost/_build.py

.PHONY: all setup apt venv test test-c test-py demo bench clean fuzz

all: test

# apt packages, installed only when one is missing (idempotent; needs root)
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml setup.py $(NATIVE_SRC)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: apt $(VENV)/.installed $(VENV)/share/man/man1/ct.1

# `man ct` with .venv/bin on PATH (a wheel installs it as data; an editable install does not)
$(VENV)/share/man/man1/ct.1: $(VENV)/.installed
	@mkdir -p $(@D) && ln -sf $(abspath man/ct.1) $@

setup: venv

tests/c/test_frost: tests/c/test_frost.c $(NATIVE_SRC)
	$(CC) -O1 -g -Wall -Wextra -Werror -Isuites/frost -o $@ tests/c/test_frost.c suites/frost/frost.c suites/frost/ed25519_vt.c -lsodium

tests/c/test_frost_ct: tests/c/test_frost.c $(NATIVE_SRC)
	$(CC) -O1 -g -Wall -Wextra -Werror -DFROST_CTGRIND -Isuites/frost -o $@ tests/c/test_frost.c suites/frost/frost.c suites/frost/ed25519_vt.c -lsodium

# the C library's own tests, under valgrind memcheck; then the constant-time check
# (secrets marked undefined: any branch or index on them is a valgrind error)
test-c: apt tests/c/test_frost tests/c/test_frost_ct
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite ./tests/c/test_frost tests/vectors/rfc9591-frost-ed25519-sha512.json
	valgrind -q --error-exitcode=1 ./tests/c/test_frost_ct tests/vectors/rfc9591-frost-ed25519-sha512.json

test-py: setup
	$(PY) -m pytest -q

test: setup test-c test-py

demo: setup
	bash demo/demo.sh

# coverage-guided fuzzing (fuzz/README.md): every target FUZZ_S seconds (or FUZZ_RUNS executions),
# one after another; fails on a finding
FUZZ_S ?= 60
FUZZ_RUNS ?= 0
$(VENV)/.fuzz-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[dev,fuzz]'
	@touch $@

fuzz: setup $(VENV)/.fuzz-installed
	$(PY) fuzz/run.py --seconds $(FUZZ_S) --runs $(FUZZ_RUNS)

bench: setup
	@for b in bench/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info tests/c/test_frost tests/c/test_frost_ct suites/frost/_native*.so

# the manual page, generated from ct's parser (tests/test_journey.py checks it is current)
.PHONY: man
man: venv
	$(PY) man/generate.py man/ct.1
