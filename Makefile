# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed by the targets themselves (see `deps`).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
ROOT := $(shell pwd)

.PHONY: all run test deps prebuild fmt-check clippy structure unit crds rules-doc bench fuzz controlplane tools cluster-up cluster-down e2e install-e2e dashboard-preview clean

all: test

## deps: the Rust components the checks need (fresh machines have rustup but maybe not these).
deps:
	@command -v rustup >/dev/null && { rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt; } || true
	@command -v rustup >/dev/null && { rustup component list --installed | grep -q '^clippy' || rustup component add clippy; } || true

## run: the product on this machine (see README).
run: deps
	bash tests/scripts/run.sh

## test: formatting, lints, unit/property/integration tests, then the end-to-end tests against
## a local control plane built from the official Kubernetes Go modules, then the install tests
## (manifests, Helm chart, real cert-manager and Prometheus).
test: deps prebuild fmt-check clippy structure unit e2e install-e2e

## prebuild: start the Go builds (control plane, then tools) in the background, so they use the
## cores the Rust build leaves idle; the scripts hold a lock, so a later step waits for them.
prebuild:
	@mkdir -p target
	@echo "prebuild: Go builds in the background (logs: target/prebuild-*.log)"
	@( bash tests/controlplane/build.sh >target/prebuild-controlplane.log 2>&1; \
	   bash tests/tools/build.sh >target/prebuild-tools.log 2>&1 ) </dev/null &

## structure: no import circle between modules or files of shared, controller and webhook.
structure:
	QUIET=1 bash tests/scripts/module-deps.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## unit: everything that needs no API server (the controller's integration tests run in e2e).
unit:
	$(CARGO) test --workspace --locked --exclude neo4j-e2e --exclude neo4j-controller
	$(CARGO) test --locked -p neo4j-controller --lib --bins

## crds: regenerate manifests/crds from the Rust types (a test fails when they drift).
crds:
	$(CARGO) run -q -p neo4j-shared --bin crdgen -- manifests/crds
	cp manifests/crds/*.yaml manifests/helm/neo4j-operator/crds/

## rules-doc: regenerate docs/rules.md from the rule catalogue (a test fails when it drifts).
rules-doc:
	$(CARGO) run -q -p neo4j-webhook -- rules --output markdown > docs/rules.md.tmp
	mv docs/rules.md.tmp docs/rules.md

## controlplane: build etcd, kube-apiserver, kube-controller-manager and kubectl (cached).
controlplane:
	bash tests/controlplane/build.sh

## tools: cert-manager, helm, prometheus and promtool from their Go modules (cached).
tools:
	bash tests/tools/build.sh

cluster-up:
	bash tests/scripts/cluster-up.sh

cluster-down:
	bash tests/scripts/cluster-down.sh

## e2e: end-to-end tests with real kubectl against the local control plane.
e2e:
	bash tests/scripts/e2e.sh

## install-e2e: kubectl apply -k manifests/ and the Helm chart on their own control plane, with
## real cert-manager (issuing, injecting, rotating), two webhook replicas and Prometheus.
install-e2e:
	bash tests/scripts/install-e2e.sh

## dashboard-preview: docs/dashboard.png, every panel of the Grafana dashboard rendered from the
## Prometheus of the install tests after their traffic (needs fonts-dejavu-core).
dashboard-preview:
	$(CARGO) build --locked -p neo4j-dashboard-preview
	DASHBOARD_PREVIEW_OUT=$(ROOT)/docs/dashboard.png INSTALL_E2E_TESTS=observability bash tests/scripts/install-e2e.sh

## bench: benchmarks; results go to BENCHMARKS.md.
bench:
	bash tests/scripts/bench.sh

## fuzz: bounded fuzzing of the admission decode-and-admit path.
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} $(CARGO) test -p neo4j-webhook --release --test fuzz -- --nocapture

clean:
	$(CARGO) clean
