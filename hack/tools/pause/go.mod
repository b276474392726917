// Module pause holds the small static programs and the offline image builder of the real
// local node (hack/real-node.sh): the pause binary of every pod sandbox, a tiny HTTP test
// server, and imagebuild, which packages a static binary as a docker-archive image with
// go-containerregistry (no Docker engine, no registry). Its own module, so that
// go-containerregistry never enters the operator's dependency graph.
module github.com/inferenceops/inference-operator/hack/tools/pause

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
