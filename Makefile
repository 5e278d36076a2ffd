# trimtab's Makefile. Every target works from a fresh clone: what a target
# needs (control-plane binaries built from Go modules, Debian packages) it
# installs itself, once, into a cache (~/.cache/trimtab, or $TRIMTAB_CACHE).
#
#   make demo          local control plane + trimtab + examples, explained
#   make demo-placer   the placer: a replayed price spike moves batch pods off spot and back
#   make test          unit, envtest and end-to-end tests (builds what it needs)
#   make bench         benchmarks, as a table
#   make cluster-up    start (or reuse) the local control plane; kubeconfig in .cluster/
#   make cluster-down  stop exactly the processes cluster-up started
#   make run           the manager against the local control plane
#   make image        the container image, as an OCI layout in bin/image (no Docker)
#   make build lint tools generate
#   make oracle        placer/fit against kube-scheduler's own plugins

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/trimtab-dev/trimtab/internal/version.Version=$(VERSION) \
             -X github.com/trimtab-dev/trimtab/internal/version.Commit=$(COMMIT)
KUBECONFIG_LOCAL := $(CURDIR)/.cluster/kubeconfig
LOCALCLUSTER := bin/localcluster
# kubectl from the build cache, matching the control plane's version.
KUBECTL = $(shell bash test/cluster/tools/build.sh --print-dir kubernetes)/bin/kubectl --kubeconfig $(KUBECONFIG_LOCAL)
# go test's own timeout; the whole suite takes a few minutes once tools exist.
TEST_TIMEOUT ?= 30m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: tools
tools: ## build the control-plane binaries, helm, cert-manager, controller-gen and prometheus-adapter from Go modules, install Prometheus (cached; ~25 min the first time)
	@bash test/cluster/tools/build.sh
	@bash test/cluster/tools/apt.sh prometheus

.PHONY: build
build: ## build bin/trimtab
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/trimtab ./cmd/trimtab

$(LOCALCLUSTER): $(shell find test/cluster -name '*.go' -not -path '*/tools/*') go.mod
	$(GO) build -o $@ ./test/cluster/cmd/localcluster

bin/loadexporter: $(shell find test/loadexporter -name '*.go') go.mod
	$(GO) build -o $@ ./test/loadexporter/cmd/loadexporter

bin/ec2fixture: $(shell find test/ec2fixture internal/speedclock prices -name '*.go') go.mod
	$(GO) build -o $@ ./test/ec2fixture/cmd/ec2fixture

.PHONY: cluster-up
cluster-up: tools $(LOCALCLUSTER) ## start (or reuse) the local control plane with cert-manager and Prometheus
	@./$(LOCALCLUSTER) up -addons cert-manager,prometheus

.PHONY: cluster-down
cluster-down: $(LOCALCLUSTER) ## stop the local control plane (and the demo's manager) and remove its state
	@bash test/demo.sh stop
	@./$(LOCALCLUSTER) down

# test runs every package's tests. envtest-based tests find the binaries via
# KUBEBUILDER_ASSETS; e2e tests start the local control plane on first use and
# share it. A cluster the tests started is stopped afterwards; one that was
# already running (make cluster-up) is left running. The pod webhook takes
# concurrent admissions, so its package also runs under the race detector
# (-short skips the 100,000-workload memory test).
.PHONY: test
test: tools $(LOCALCLUSTER) ## run all tests: unit, envtest, chart and e2e
	@bash test/with-cluster.sh $(GO) test -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -race -short -timeout $(TEST_TIMEOUT) ./webhook/mutating/

# bench runs every benchmark once (-benchtime default 1s), the through-the-
# apiserver one included, and prints one table.
.PHONY: bench
bench: tools $(LOCALCLUSTER) ## run the benchmarks and print a table
	@bash test/with-cluster.sh bash -c 'set -o pipefail; $(GO) test -run "^$$" -bench . -benchmem -count 1 -timeout $(TEST_TIMEOUT) ./... | $(GO) run ./hack/benchtable'

CONTROLLER_GEN = $(shell bash test/cluster/tools/build.sh --print-dir controllergen)/bin/controller-gen

.PHONY: generate
generate: ## regenerate api/'s deepcopy and the chart's CRDs with controller-gen (built by make tools)
	@bash test/cluster/tools/build.sh controllergen
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd:crdVersions=v1 paths=./api/... output:crd:dir=charts/trimtab/files/crds
# oracle compares placer/fit with kube-scheduler's own in-tree plugins on
# seeded random clusters (hack/intree is a module of its own: it needs
# k8s.io/kubernetes). Worth a run after a Kubernetes upgrade.
.PHONY: oracle
oracle: ## check placer/fit against kube-scheduler's own plugins (hack/intree)
	cd hack/intree && $(GO) test -run TestAgreement -v -scenarios 1000 .

# lint is not part of make test: staticcheck over the whole module takes
# minutes of CPU, and CI runs it as its own job. staticcheck and actionlint
# are built from their Go modules (test/cluster/tools/{staticcheck,actionlint})
# into the tool cache the first time, like the control plane.
STATICCHECK = $(shell bash test/cluster/tools/build.sh --print-dir staticcheck)/bin/staticcheck
ACTIONLINT = $(shell bash test/cluster/tools/build.sh --print-dir actionlint)/bin/actionlint

.PHONY: lint
lint: ## gofmt, go vet, go mod tidy -diff, staticcheck and actionlint (the last two built once into the tool cache)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@bash test/cluster/tools/build.sh staticcheck actionlint
	$(STATICCHECK) ./...
	$(ACTIONLINT)

# image builds trimtab's container image without a container engine
# (hack/image, internal/ociimage): linux/amd64 and linux/arm64 in one OCI
# index, as an OCI layout in bin/image, an SPDX SBOM per platform beside it
# (bin/image.linux-<arch>.spdx.json). The tag is the version (git describe;
# "-dirty" when the tree has changes); times are SOURCE_DATE_EPOCH, by
# default the commit's, so a commit always gives the same digest.
# image-push uploads that layout with the same code (go-containerregistry).
.PHONY: image
image: ## build the container image (linux/amd64+arm64) as an OCI layout in bin/image, with SBOMs
	$(GO) run ./hack/image $(if $(filter command line environment,$(origin VERSION)),-version $(VERSION)) -out bin/image

.PHONY: image-push
image-push: ## push bin/image (make image) to IMAGE_REF, e.g. make image-push IMAGE_REF=ghcr.io/trimtab-dev/trimtab:v0.1.0
	@test -n "$(IMAGE_REF)" || { echo "image-push: set IMAGE_REF=<registry>/<repository>:<tag>"; exit 1; }
	$(GO) run ./hack/image -out bin/image -push $(IMAGE_REF)

.PHONY: run
run: build cluster-up ## run the manager against the local control plane: webhooks registered by URL, decisions read from the local Prometheus
	@bash test/demo.sh stop
	./$(LOCALCLUSTER) -url https://127.0.0.1:19443 -cert-dir .cluster/webhook-certs webhooks
	$(KUBECTL) apply --server-side -f charts/trimtab/files/crds
	./bin/trimtab manager --kubeconfig $(KUBECONFIG_LOCAL) \
		--webhook-host 127.0.0.1 --webhook-port 19443 --cert-dir .cluster/webhook-certs \
		--metrics-bind-address 127.0.0.1:18080 --metrics-secure=false --health-probe-bind-address 127.0.0.1:18081 \
		--prometheus-address $$(./$(LOCALCLUSTER) prometheus-url)

.PHONY: demo
demo: build bin/loadexporter bin/ec2fixture cluster-up ## start everything and show trimtab's decisions on example workloads
	@bash test/demo.sh

.PHONY: demo-placer
demo-placer: build bin/ec2fixture $(LOCALCLUSTER) ## the placer alone: a recorded spot price spike replayed at 480x, batch pods moved off spot ahead of it and back (~2 min)
	@bash test/demo-placer.sh

.PHONY: clean
clean: cluster-down ## stop the cluster and remove build output (the tool cache stays)
	rm -rf bin
