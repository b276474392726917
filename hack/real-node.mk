# The real local node (real containers with containerd and runc, CNI, kube-proxy,
# metrics-server) in a network namespace of its own. Included from the root Makefile; the
# logic is in hack/real-node.sh. Needs root.

##@ Real local node

.PHONY: real-node
real-node: ## Start one real Kubernetes node on this machine (isolated network namespace); use it with hack/kubectl.
	@LOCALBIN=$(LOCALBIN) hack/real-node.sh up

.PHONY: real-node-down
real-node-down: ## Stop the real node and remove everything it left (processes, mounts, cgroups, state); restores sysctls.
	@LOCALBIN=$(LOCALBIN) hack/real-node.sh down

.PHONY: test-real-node
test-real-node: ## Real node end to end: up, a real pod behind a ClusterIP Service, kubectl top, guard 0, down, check-clean.
	@LOCALBIN=$(LOCALBIN) hack/test-real-node.sh

.PHONY: test-real-operator
test-real-operator: ## The operator on the real node, installed as users do: helm install (restricted Pod Security), metrics auth, a real inference, helm upgrade, uninstall, dist/install.yaml.
	@LOCALBIN=$(LOCALBIN) hack/test-real-operator.sh

.PHONY: test-e2e-real
test-e2e-real: ## End-to-end suite on the real node (test/realnode): operator installed by helm, rollout and scale-in without a failed request, slow model load, cgroup limits, CPU autoscaling, kills; down and check-clean.
	@LOCALBIN=$(LOCALBIN) hack/test-real-e2e.sh
