# Helm chart (dist/chart): helm built from the Go module proxy, the CRD and RBAC kept in
# sync with config/, and the chart tests. Included from the root Makefile.

##@ Helm chart

# The root Makefile defines LOCALBIN after including this file, but the rule below names
# $(HELM) as a target, which make expands when it reads the rule: define it here too.
LOCALBIN ?= $(shell pwd)/bin
HELM ?= $(LOCALBIN)/helm
HELM_VERSION ?= v3.22.0

.PHONY: helm
helm: $(HELM) ## Build helm locally if necessary (from the Go module proxy).
$(HELM): $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

CHART_DIR ?= dist/chart

.PHONY: helm-crd
helm-crd: manifests ## Write the chart's generated parts: CRD and RBAC rules from config/, version and appVersion from VERSION.
	@VERSION=$(VERSION) hack/helm-sync.sh $(CHART_DIR)
	@echo "$(CHART_DIR): CRD, RBAC rules and version $(VERSION) written from config/ and VERSION"

# verify-chart regenerates the chart's generated parts into a copy of the chart and
# compares: it fails when the chart drifted from config/crd/bases, config/rbac or VERSION.
.PHONY: verify-chart
verify-chart: ## Fail when the chart's CRD, RBAC rules or version differ from config/ and VERSION.
	@chart_version="$$(awk '$$1 == "version:" {print $$2}' $(CHART_DIR)/Chart.yaml)"; \
	app_version="$$(awk '$$1 == "appVersion:" {gsub(/"/, "", $$2); print $$2}' $(CHART_DIR)/Chart.yaml)"; \
	if [ "$$chart_version" != "$(VERSION)" ] || [ "$$app_version" != "$(VERSION)" ]; then \
		echo "$(CHART_DIR)/Chart.yaml: version $$chart_version, appVersion $$app_version; the Makefile's VERSION is $(VERSION). Run: make helm-crd"; \
		exit 1; \
	fi
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	cp -r $(CHART_DIR) "$$tmp/chart"; \
	VERSION=$(VERSION) hack/helm-sync.sh "$$tmp/chart"; \
	if ! diff -ru $(CHART_DIR) "$$tmp/chart"; then \
		echo "$(CHART_DIR) drifted from config/crd/bases and config/rbac (diff above: - the chart, + what config/ gives). Run: make helm-crd"; \
		exit 1; \
	fi
	@echo "$(CHART_DIR) matches config/crd/bases, config/rbac/role.yaml and VERSION $(VERSION)"

# verify-installer compares dist/install.yaml with what make build-installer writes now
# (without its `kustomize edit set image`, so config/ is left as it is).
.PHONY: verify-installer
verify-installer: kustomize ## Fail when dist/install.yaml differs from kustomize build config/default.
	@if ! $(KUSTOMIZE) build config/default | diff -u dist/install.yaml -; then \
		echo "dist/install.yaml is out of date with config/ (diff above: - the file, + config/). Run: make build-installer"; \
		exit 1; \
	fi
	@echo "dist/install.yaml matches config/default"

.PHONY: lint-chart
lint-chart: helm ## Run helm lint --strict on the chart, with its default values and each values file in dist/chart/ci/.
	$(HELM) lint --strict $(CHART_DIR)
	@for values in $(CHART_DIR)/ci/*.yaml; do \
		echo "$(HELM) lint --strict $(CHART_DIR) -f $$values"; \
		$(HELM) lint --strict $(CHART_DIR) -f "$$values" || exit 1; \
	done

.PHONY: test-chart-render
test-chart-render: helm ## Check without a cluster that wrong values are refused and helm template renders what each value promises.
	@HELM=$(HELM) CHART_DIR=$(CHART_DIR) hack/test-chart-render.sh

.PHONY: test-chart-cluster
test-chart-cluster: helm ## Dry-run every render, then install, upgrade and uninstall the chart on a simulated cluster of its own, with the operator running as the chart's ServiceAccount.
	@HELM=$(HELM) CHART_DIR=$(CHART_DIR) hack/test-chart.sh

.PHONY: test-chart
test-chart: verify-chart verify-installer lint-chart test-chart-render test-chart-cluster ## All chart and installer checks and tests (drift, lint, render, cluster).
