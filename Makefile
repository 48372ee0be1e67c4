# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed by the targets themselves (see `deps`).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
ROOT := $(shell pwd)

.PHONY: all run test deps prebuild fmt-check clippy structure unit probes crds rules-doc bench fuzz controlplane tools cluster-up cluster-down e2e chaos install-e2e dashboard-preview clean
.PHONY: neo4j-check settings-catalogue settings-catalogue-check settings-migrations symbol-order

# Neo4j's own checks of what we render (tests/neo4j, Maven). The local repository is Maven's
# usual one so downloads (about 170 MB cold) survive `make clean` and fresh clones.
MVN ?= mvn
MAVEN_REPO ?= $(HOME)/.m2/repository
NEO4J_CONFS := $(ROOT)/target/neo4j-confs
NEO4J_REPORTS := $(ROOT)/target/neo4j-check
SETTINGS_CATALOGUE := $(ROOT)/shared/data/neo4j-settings

all: test

## deps: the Rust components the checks need (fresh machines have rustup but maybe not these).
deps:
	@command -v rustup >/dev/null && { rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt; } || true
	@command -v rustup >/dev/null && { rustup component list --installed | grep -q '^clippy' || rustup component add clippy; } || true

## run: the product on this machine (see README).
run: deps
	bash tests/scripts/run.sh

## test: formatting, lints, unit/property/integration tests, the release webhook under hostile
## clients (probes), Neo4j's own checks of the rendered configuration, then the end-to-end tests against a local control plane built from the
## official Kubernetes Go modules, then the install tests (manifests, Helm chart, real
## cert-manager and Prometheus).
test: deps prebuild fmt-check clippy structure unit probes neo4j-check e2e install-e2e

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
	# --all-targets leaves out test targets that `cargo test` does not run by default.
	$(CARGO) clippy --locked -p neo4j-webhook --test probes -- -D warnings

## unit: everything that needs no API server (the controller's integration tests run in e2e).
unit:
	$(CARGO) test --workspace --locked --exclude neo4j-e2e --exclude neo4j-controller
	$(CARGO) test --locked -p neo4j-controller --lib --bins
	python3 -B -m unittest discover -s scripts/neo4j-settings

## probes: hostile clients (trickled bodies, stalled HTTP/2 streams, 10,000 connections under a
## 1,024 file-descriptor limit, maximum-size reviews, large reviews beside small ones) against
## the release webhook: valid reviews keep passing, memory peaks at most 64 MiB and is back
## under 24 MiB within 10 s. Figures: target/probes/figures.md (see RELIABILITY.md).
probes:
	$(CARGO) build --locked --release -p neo4j-webhook
	mkdir -p target/probes
	printf '| probe | load | RSS idle | RSS peak | back under 24 MiB after | RSS 3 s after |\n|---|---|---:|---:|---:|---:|\n' > target/probes/figures.md
	PROBE_FIGURES=$(ROOT)/target/probes/figures.md NEO4J_WEBHOOK_BIN=$(ROOT)/target/release/neo4j-webhook \
		$(CARGO) test --locked -p neo4j-webhook --test probes -- --nocapture
	@cat target/probes/figures.md

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

## chaos: fault tests (API server restart, etcd pause, controller and leader killed, a paused
## leader, deletion while the webhook is down, churn) against a control plane of their own;
## figures in target/chaos/figures.md (see RELIABILITY.md).
chaos:
	bash tests/scripts/chaos.sh

## neo4j-check: render neo4j.conf for a matrix of clusters and standalones, then with Neo4j 5.26
## (Maven Central artifacts, Java 17): the 5.26 settings catalogue against every setting Neo4j
## declares, every file through Neo4j's configuration parser (strict validation), and a real
## Community server started from each file answering Bolt; the operator's Bolt client
## (`neo4j-controller cypher`) against such a server. Reports: target/neo4j-check/.
neo4j-check:
	rm -rf $(NEO4J_CONFS) $(NEO4J_REPORTS)
	# The same build as tests/scripts/e2e.sh, so the two share their artifacts.
	$(CARGO) build -q --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins
	$(ROOT)/target/debug/render-confs $(NEO4J_CONFS)
	$(MVN) -q -B -Dmaven.repo.local=$(MAVEN_REPO) -f tests/neo4j/pom.xml test \
		-Dneo4j.catalogue=$(SETTINGS_CATALOGUE)/5.26.json \
		-Dneo4j.catalogue.calver=$(SETTINGS_CATALOGUE)/calver.json -Dneo4j.confs=$(NEO4J_CONFS) \
		-Dneo4j.migrations=$(SETTINGS_CATALOGUE)/5.26-migrations.json \
		-Dneo4j.reports=$(NEO4J_REPORTS) -Dneo4j.controller=$(ROOT)/target/debug/neo4j-controller
	@cat $(NEO4J_REPORTS)/*.summary

## settings-migrations: rewrite shared/data/neo4j-settings/5.26-migrations.json from what Neo4j
## 5.26's own setting migrators do (make neo4j-check fails when the committed file differs).
settings-migrations:
	mkdir -p $(NEO4J_REPORTS)
	$(MVN) -q -B -Dmaven.repo.local=$(MAVEN_REPO) -f tests/neo4j/pom.xml test -Dtest=MigrationsTest \
		-Dneo4j.migrations=$(SETTINGS_CATALOGUE)/5.26-migrations.json -Dneo4j.migrations.write=true \
		-Dneo4j.reports=$(NEO4J_REPORTS)

## settings-catalogue: regenerate shared/data/neo4j-settings/ from a local copy of the
## neo4j/docs-operations git repository: make settings-catalogue NEO4J_DOCS_OPERATIONS=<path>.
settings-catalogue:
	@test -n "$${NEO4J_DOCS_OPERATIONS:-}" || { echo "set NEO4J_DOCS_OPERATIONS to a neo4j/docs-operations git repository" >&2; exit 2; }
	python3 scripts/neo4j-settings/generate.py --docs "$${NEO4J_DOCS_OPERATIONS}" --out $(SETTINGS_CATALOGUE)

## settings-catalogue-check: fail when the committed catalogue differs from what the docs
## generate. Needs the docs repository (NEO4J_DOCS_OPERATIONS), so it is not part of `make test`.
settings-catalogue-check:
	@test -n "$${NEO4J_DOCS_OPERATIONS:-}" || { echo "set NEO4J_DOCS_OPERATIONS to a neo4j/docs-operations git repository" >&2; exit 2; }
	python3 scripts/neo4j-settings/generate.py --docs "$${NEO4J_DOCS_OPERATIONS}" --out $(SETTINGS_CATALOGUE) --check

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

## symbol-order: record (under valgrind) which functions the webhook runs serving reviews and
## rewrite webhook/symbol-order.txt, the code layout its link uses (docs/design.md, "Code
## layout"). Run after a Rust upgrade or a dependency bump; commit the file.
symbol-order:
	$(CARGO) build --locked --release -p neo4j-webhook
	$(CARGO) bench --locked -p neo4j-webhook --bench layout

## fuzz: bounded fuzzing of the admission decode-and-admit path.
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} $(CARGO) test -p neo4j-webhook --release --test fuzz -- --nocapture

clean:
	$(CARGO) clean
