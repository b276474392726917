# Prometheus and KEDA on the real local node (hack/autoscaling-stack.sh): Prometheus scrapes
# the pods annotated prometheus.io/scrape, KEDA's metrics adapter serves
# external.metrics.k8s.io. Included from the root Makefile. Needs root and the real node.

##@ Autoscaling stack on the real node (Prometheus, KEDA)

.PHONY: autoscaling-stack
autoscaling-stack: ## Start Prometheus (http://10.250.0.1:9090) and KEDA in the running real node's namespace (builds them the first time).
	@LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh up

.PHONY: autoscaling-stack-down
autoscaling-stack-down: ## Stop Prometheus and KEDA (only what autoscaling-stack started) and remove their state; the node keeps running.
	@LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh down

.PHONY: autoscaling-stack-status
autoscaling-stack-status: ## Show the stack's processes, Prometheus' targets, the external metrics APIService and the ScaledObjects.
	@LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh status

.PHONY: autoscaling-stack-tools
autoscaling-stack-tools: ## Build (first time only) Prometheus and KEDA (operator, metrics adapter) into bin/autoscaling/.
	@LOCALBIN=$(LOCALBIN) hack/autoscaling-stack.sh tools

.PHONY: test-autoscaling-stack
test-autoscaling-stack: ## Real node + stack: Prometheus scrapes a real model server, KEDA scales it out and in on its queue depth under real load.
	@LOCALBIN=$(LOCALBIN) hack/test-autoscaling-stack.sh
