package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildOptions describe an image made of one static binary on an empty base.
type buildOptions struct {
	// binary is the file on this machine that becomes the image's only file.
	binary string
	// binaryPath is where it lands in the image (absolute), for example /manager.
	binaryPath string
	// entrypoint and cmd as in an image config; entrypoint defaults to [binaryPath].
	entrypoint []string
	cmd        []string
	user       string
	workingDir string
	env        []string
	labels     map[string]string
	// exposedPorts such as "8080/tcp".
	exposedPorts []string
	os           string
	architecture string
	// created is the image's creation time and the layer's file times; a fixed time
	// (the commit's) makes the image reproducible: same inputs, same digest.
	created time.Time
}

// buildImage returns the image described by o: one layer, a tar holding the binary
// (root-owned, mode 0755, with its parent directories; gzip-compressed in the archive),
// and a config with user, entrypoint, labels and platform. Nothing else is in it: no
// shell, no /etc.
func buildImage(o buildOptions) (v1.Image, error) {
	if !path.IsAbs(o.binaryPath) || path.Clean(o.binaryPath) != o.binaryPath || o.binaryPath == "/" {
		return nil, fmt.Errorf("binary path %q must be a clean absolute file path", o.binaryPath)
	}
	content, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, fmt.Errorf("reading the binary: %w", err)
	}
	layerTar, err := binaryLayerTar(o.binaryPath, content, o.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("making the layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: o.created},
			CreatedBy: "image build --binary " + path.Base(o.binary) + " (" + o.binaryPath + ")",
			Comment:   "github.com/inferenceops/inference-operator/hack/tools/image",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("appending the layer: %w", err)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the base config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = o.os
	cf.Architecture = o.architecture
	cf.Created = v1.Time{Time: o.created}
	cf.Config.User = o.user
	cf.Config.WorkingDir = o.workingDir
	cf.Config.Entrypoint = o.entrypoint
	if len(cf.Config.Entrypoint) == 0 {
		cf.Config.Entrypoint = []string{o.binaryPath}
	}
	cf.Config.Cmd = o.cmd
	cf.Config.Env = o.env
	cf.Config.Labels = o.labels
	if len(o.exposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range o.exposedPorts {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the config: %w", err)
	}
	return img, nil
}

// binaryLayerTar is a tar stream with the parent directories of binaryPath and the
// binary itself, all owned by root (uid 0): the image's user can run it but not change it.
func binaryLayerTar(binaryPath string, content []byte, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rel := strings.TrimPrefix(binaryPath, "/")
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/") + "/"
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: modTime, Format: tar.FormatPAX,
		}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: rel, Mode: 0o755, Size: int64(len(content)),
		ModTime: modTime, Format: tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeImage writes img as a docker-archive tarball (what `docker load` and
// `ctr images import` read) with the given tag, through a temporary file so that a
// half-written tarball never carries the final name.
func writeImage(img v1.Image, tag, out string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("parsing the tag %q: %w", tag, err)
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}
