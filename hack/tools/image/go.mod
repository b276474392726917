// Module image builds container images (docker-archive tarballs) from static binaries,
// without a Docker engine or a registry, for `make image` and `make image-model-server`.
module github.com/inferenceops/inference-operator/hack/tools/image

go 1.26

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
