# Image URL to use all building/pushing image targets.
IMG ?= inference-operator:latest
# Project version; the Helm chart's version and appVersion follow it.
VERSION ?= 0.1.0

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set).
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'.
.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD from the API types in api/ and the ClusterRole from the markers in internal/.
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="./api/...;./internal/..."

.PHONY: generate
generate: controller-gen ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/...;./internal/..."

.PHONY: verify-generated
verify-generated: controller-gen ## Fail when the generated files (deepcopy, CRD, RBAC) were stale (they are regenerated).
	@state() { git status --porcelain -- api config; git diff -- api config; }; \
	before="$$(state | sha256sum)"; \
	$(MAKE) -s generate manifests; \
	if [ "$$before" != "$$(state | sha256sum)" ]; then \
		echo "Generated files were out of date and have been regenerated; review and commit:"; \
		git status --porcelain -- api config; exit 1; \
	fi

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code (the e2e and real-node suites included).
	go vet ./...
	go vet -tags e2e ./test/...
	go vet -tags realnode ./test/...

.PHONY: test
test: verify-generated vet control-plane ## Run unit and envtest tests (the README's test command).
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" go test $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out

FUZZTIME ?= 15s

.PHONY: fuzz
fuzz: ## Fuzz the builders and the status computation for FUZZTIME each (default 15s).
	go test ./internal/render -run '^$$' -fuzz FuzzBuilders -fuzztime $(FUZZTIME)
	go test ./internal/controller -run '^$$' -fuzz FuzzComputeStatus -fuzztime $(FUZZTIME)

.PHONY: test-e2e
test-e2e: ## Run the end-to-end suite against a fresh local simulated cluster it starts and removes.
	@hack/test-e2e.sh

.PHONY: test-faults
test-faults: ## Run the fault-injection suite (issue 5) on a fresh local simulated cluster of its own, then remove it.
	@hack/test-faults.sh

.PHONY: test-all
test-all: test image-check test-release-image test-chart test-e2e test-faults test-real-node test-real-operator test-e2e-real bench-smoke ## The README's test command: unit and envtest, images, Helm chart, end to end, faults, the real node, the operator on it and the real-node end-to-end suite, benchmark smoke run.

.PHONY: demo
demo: ## The main job on the real local node (root): the operator installed by Helm, a real model server scaling out and in under real load. DEV_CLUSTER=sim: on the simulated cluster.
	@hack/demo.sh

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

##@ Benchmarks

# InferenceServices the benchmark converges (issue 6 states its goals for 1000).
BENCH_N ?= 1000
# More flags for test/bench, e.g. BENCH_FLAGS='-memory-points 100,1000 -unrelated 1000'.
BENCH_FLAGS ?=

# Figure 6 (the pod watch) runs kube-controller-manager, kube-scheduler and kwok, as the
# simulated e2e cluster does; the kwok binary is the one make dev-cluster-tools builds.
BENCH_KWOK = $(LOCALBIN)/dev-cluster/kwok-$(shell sed -n 's/^KWOK_VERSION="\(.*\)"$$/\1/p' hack/dev-cluster.sh)-$(shell go env GOOS)-$(shell go env GOARCH)/kwok
# Figure 7 (the live autoscaler, issue 14) adds the HPA controller and the dev cluster's
# metrics adapter, which make dev-cluster-tools builds too.
BENCH_ADAPTER = $(LOCALBIN)/dev-cluster/metrics-adapter-$(shell awk '$$1 == "sigs.k8s.io/custom-metrics-apiserver" {print $$2; exit}' hack/tools/cluster/go.mod)-$(shell go env GOOS)-$(shell go env GOARCH)/metrics-adapter

.PHONY: bench
bench: control-plane dev-cluster-tools ## Print the benchmark figures (issues 6, 13 and 14) for BENCH_N InferenceServices; results in bin/bench/.
	go build -o bin/manager ./cmd
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" go run ./test/bench -n $(BENCH_N) -manager bin/manager -kwok $(BENCH_KWOK) -metrics-adapter $(BENCH_ADAPTER) $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: control-plane ## Run the benchmark with a small N (CI, about 2 minutes); fails only on a hard invariant.
	go build -o bin/manager ./cmd
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" go run ./test/bench -smoke -manager bin/manager $(BENCH_FLAGS)

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/manager (the same static build make image packs).
	CGO_ENABLED=0 go build -trimpath -o bin/manager ./cmd

.PHONY: run
run: manifests generate fmt vet ## Run the operator from your host against the cluster in KUBECONFIG.
	go run ./cmd/main.go --metrics-bind-address=0 --health-probe-bind-address=127.0.0.1:8081

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(IMAGE_REVISION) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push the manager image.
	$(CONTAINER_TOOL) push ${IMG}

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: CRD, RBAC and manager in one file.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
	$(KUSTOMIZE) build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRD into the cluster in KUBECONFIG.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall the CRD (deletes every InferenceService). Call with ignore-not-found=true to ignore errors.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to the cluster in KUBECONFIG.
	cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from the cluster. Call with ignore-not-found=true to ignore errors.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Control plane (built from the Go module proxy)

CONTROL_PLANE_COMPONENTS ?= etcd kube-apiserver kubectl

.PHONY: control-plane
control-plane: ## Build etcd, kube-apiserver and kubectl into bin/k8s/ (first time only).
	@hack/build-control-plane.sh $(CONTROL_PLANE_COMPONENTS) >/dev/null

.PHONY: control-plane-path
control-plane-path: ## Print the folder holding the control-plane binaries (building them if missing).
	@hack/build-control-plane.sh $(CONTROL_PLANE_COMPONENTS)

# KUBEBUILDER_ASSETS set by the user wins; otherwise envtest uses the binaries built here.
ifeq ($(origin KUBEBUILDER_ASSETS), undefined)
KUBEBUILDER_ASSETS = $(shell hack/build-control-plane.sh --print-path)
endif
KUBECTL ?= $(shell hack/build-control-plane.sh --print-path)/kubectl

include hack/dev-cluster.mk
include hack/helm.mk
include hack/real-node.mk
include hack/autoscaling.mk

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Tool Binaries
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.1
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(notdir $(1))-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(basename "$(1)-$(3)")" "$(1)"
endef

##@ Images

# Images are built without a Docker engine or a registry by hack/tools/image (a module of its
# own, on github.com/google/go-containerregistry): one static binary on an empty base, written
# as a docker-archive tarball (`docker load`, `ctr -n k8s.io images import`).
IMAGE_DIR ?= bin/images
IMAGE_PLATFORM ?= linux/amd64
IMAGE_ARCH = $(word 2,$(subst /, ,$(IMAGE_PLATFORM)))
# The operator's image: tagged IMG when you set it, inference-operator:VERSION otherwise.
ifeq ($(origin IMG),file)
IMAGE_TAG ?= inference-operator:$(VERSION)
else
IMAGE_TAG ?= $(IMG)
endif
IMAGE_TAR ?= $(IMAGE_DIR)/inference-operator-$(VERSION).tar
# The example model server's image (examples/model-server), used by the modelserver sample.
MODEL_SERVER_IMG ?= inference-operator/model-server:$(VERSION)
MODEL_SERVER_TAR ?= $(IMAGE_DIR)/model-server-$(VERSION).tar
# Upper bound of an image's compressed size that image-check enforces.
IMAGE_MAX_SIZE ?= 60MiB
# Labels (org.opencontainers.image.*): revision is the commit, created its commit time, so
# that building one commit twice gives the same image digest.
IMAGE_SOURCE ?= https://github.com/inferenceops/inference-operator
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_CREATED ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_LABELS = --label org.opencontainers.image.source=$(IMAGE_SOURCE) \
	--label org.opencontainers.image.revision=$(IMAGE_REVISION) \
	--label org.opencontainers.image.version=$(VERSION) \
	--label org.opencontainers.image.licenses=Apache-2.0
# The image tool is built once for each version of its sources (go.mod pins the library).
IMAGE_TOOL_VERSION := $(shell cat hack/tools/image/go.mod hack/tools/image/go.sum $(filter-out %_test.go,$(wildcard hack/tools/image/*.go)) 2>/dev/null | sha256sum | cut -c1-12)
IMAGE_TOOL ?= $(CURDIR)/bin/image-$(IMAGE_TOOL_VERSION)
IMAGE_CHECKS = --user 65532:65532 --platform $(IMAGE_PLATFORM) --no-shell --max-size $(IMAGE_MAX_SIZE) \
	--require-label org.opencontainers.image.source --label org.opencontainers.image.revision=$(IMAGE_REVISION) \
	--label org.opencontainers.image.version=$(VERSION)

.PHONY: image
image: image-tool ## Build the operator's image without Docker: static bin/manager as /manager, user 65532, into IMAGE_TAR.
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -o bin/manager ./cmd
	$(IMAGE_TOOL) build --binary bin/manager --path /manager --entrypoint /manager \
		--user 65532:65532 --workdir / --platform $(IMAGE_PLATFORM) --created $(IMAGE_CREATED) \
		$(IMAGE_LABELS) --label org.opencontainers.image.title=inference-operator \
		--tag $(IMAGE_TAG) --out $(IMAGE_TAR)

.PHONY: image-model-server
image-model-server: image-tool ## Build the example model server's image (examples/model-server) into MODEL_SERVER_TAR.
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/model-server ./examples/model-server
	$(IMAGE_TOOL) build --binary bin/model-server --path /model-server --entrypoint /model-server \
		--user 65532:65532 --workdir / --platform $(IMAGE_PLATFORM) --created $(IMAGE_CREATED) --expose 8080/tcp \
		$(IMAGE_LABELS) --label org.opencontainers.image.title=model-server \
		--tag $(MODEL_SERVER_IMG) --out $(MODEL_SERVER_TAR)

.PHONY: image-check
.PHONY: test-release-image
test-release-image: image-tool ## The previous release's image (the upgrade spec's start) builds from hack/releases/ in a clone without its tag or history, byte for byte the same.
	hack/test-release-image.sh

image-check: image image-model-server ## Test the image tool, then check both images: user, entrypoint, labels, only the binary (no shell), size.
	cd hack/tools/image && go test -count=1 ./...
	$(IMAGE_TOOL) inspect $(IMAGE_TAR)
	$(IMAGE_TOOL) check $(IMAGE_TAR) $(IMAGE_CHECKS) --entrypoint /manager --only-file /manager
	$(IMAGE_TOOL) check $(MODEL_SERVER_TAR) $(IMAGE_CHECKS) --entrypoint /model-server --only-file /model-server

.PHONY: image-tool
image-tool: $(IMAGE_TOOL) ## Build the image tool (hack/tools/image) into bin/ unless this version is there.
$(IMAGE_TOOL):
	@mkdir -p $(dir $(IMAGE_TOOL))
	cd hack/tools/image && CGO_ENABLED=0 go build -trimpath -o $(IMAGE_TOOL).tmp . && mv $(IMAGE_TOOL).tmp $(IMAGE_TOOL)
