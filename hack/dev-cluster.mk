# Local simulated cluster (kwok + real control plane + metrics APIs), built from the
# Go module proxy only. Included from the root Makefile; the logic is in
# hack/dev-cluster.sh, simulated load in hack/load.sh.

##@ Local simulated cluster

# Number of fake nodes (32 CPU, 256Gi, 110 pods each).
DEV_CLUSTER_NODES ?= 3

.PHONY: dev-cluster
dev-cluster: ## Start the local simulated cluster (kwok, metrics-server, custom/external metrics); prints the KUBECONFIG to export.
	@DEV_CLUSTER_NODES=$(DEV_CLUSTER_NODES) LOCALBIN=$(LOCALBIN) KUBECTL=$(KUBECTL) hack/dev-cluster.sh up

.PHONY: dev-cluster-down
dev-cluster-down: ## Stop the local simulated cluster and everything it started; removes .dev-cluster/.
	@LOCALBIN=$(LOCALBIN) hack/dev-cluster.sh down

.PHONY: dev-cluster-status
dev-cluster-status: ## Show the local simulated cluster's components, nodes and aggregated APIs.
	@LOCALBIN=$(LOCALBIN) hack/dev-cluster.sh status

.PHONY: dev-cluster-tools
dev-cluster-tools: ## Build (first time only) kwok, kwokctl, metrics-server, the metrics adapter and the control plane.
	@LOCALBIN=$(LOCALBIN) hack/dev-cluster.sh tools

.PHONY: dev-cluster-smoke
dev-cluster-smoke: ## Check the running dev cluster: CPU and custom-metric HPAs scale, metrics APIs answer, loopback only.
	@KUBECTL=$(KUBECTL) hack/dev-cluster/smoke.sh
