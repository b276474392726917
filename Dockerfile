# The manager's image, for machines with a Docker engine (`make docker-build`). `make image`
# builds the same contents without Docker (hack/tools/image): one static binary at /manager,
# owned by root and run as 65532:65532, the same org.opencontainers.image.* labels, no shell
# and no base image files. Keep the two in step: binary path, user, entrypoint, labels.

# Build the manager binary
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Copy the Go Modules manifests
COPY go.mod go.mod
COPY go.sum go.sum
# cache deps before building and copying source so that we don't need to re-download as much
# and so that source changes don't invalidate our downloaded layer
RUN go mod download

# Copy the go source
COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/

# Build: the same command as `make image` (static, no cgo, paths trimmed).
# the GOARCH has not a default value to allow the binary be built according to the host where the command
# was called. For example, if we call make docker-build in a local env which has the Apple Silicon M1 SO
# the docker BUILDPLATFORM arg will be linux/arm64 when for Apple x86 it will be linux/amd64. Therefore,
# by leaving it empty we can ensure that the container and binary shipped on it will have the same platform.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -o manager ./cmd

# An empty base: the manager talks to the API server with the in-cluster CA from its service
# account, so it needs no CA bundle, no /etc/passwd (the user is numeric) and no shell.
FROM scratch
# Pass the Makefile's VERSION and the commit, as `make image` labels them:
#   docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(git rev-parse HEAD) .
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.source="https://github.com/inferenceops/inference-operator" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.title="inference-operator"
WORKDIR /
COPY --from=builder /workspace/manager /manager
USER 65532:65532

ENTRYPOINT ["/manager"]
