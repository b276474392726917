# The local cluster: by default the real node (hack/real-node.sh: real containers, needs
# root and namespaces), with DEV_CLUSTER=sim the simulated one (kwok + real control plane +
# metrics APIs, hack/dev-cluster.sh, simulated load in hack/load.sh), for what needs
# hundreds of pods or a machine without root. Both are built from the Go module proxy only.
# Included from the root Makefile.

##@ Local cluster (real node by default, DEV_CLUSTER=sim for the simulated one)

# real (the default) or sim.
DEV_CLUSTER ?= real
# Number of fake nodes of the simulated cluster (32 CPU, 256Gi, 110 pods each).
DEV_CLUSTER_NODES ?= 3

ifeq ($(DEV_CLUSTER),sim)
dev_cluster_script = DEV_CLUSTER_NODES=$(DEV_CLUSTER_NODES) LOCALBIN=$(LOCALBIN) KUBECTL=$(KUBECTL) hack/dev-cluster.sh
dev_cluster_stack_up = true
dev_cluster_stack_down = true
else ifeq ($(DEV_CLUSTER),real)
dev_cluster_script = LOCALBIN=$(LOCALBIN) hack/real-node.sh
# The real node also runs the autoscaling stack (Prometheus, KEDA: hack/autoscaling-stack.sh),
# started after the node and stopped before it.
dev_cluster_stack_up = LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh up
dev_cluster_stack_down = LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh down
else
$(error DEV_CLUSTER must be real or sim, not $(DEV_CLUSTER))
endif

.PHONY: dev-cluster
dev-cluster: ## Start the local cluster (the real node with Prometheus and KEDA; DEV_CLUSTER=sim: kwok) and print how to use its kubectl.
	@$(dev_cluster_script) up
	@$(dev_cluster_stack_up)

.PHONY: dev-cluster-down
dev-cluster-down: ## Stop the local cluster (DEV_CLUSTER=sim: the simulated one) and everything it started.
	@$(dev_cluster_stack_down)
	@$(dev_cluster_script) down

.PHONY: dev-cluster-status
dev-cluster-status: ## Show the local cluster's components and nodes (DEV_CLUSTER=sim: the simulated one).
	@$(dev_cluster_script) status

.PHONY: dev-cluster-tools
dev-cluster-tools: ## Build (first time only) the simulated cluster's kwok, kwokctl, metrics-server, metrics adapter and control plane.
	@LOCALBIN=$(LOCALBIN) hack/dev-cluster.sh tools

.PHONY: dev-cluster-smoke
dev-cluster-smoke: ## Check the running dev cluster: CPU and custom-metric HPAs scale, metrics APIs answer, loopback only.
	@KUBECTL=$(KUBECTL) hack/dev-cluster/smoke.sh
