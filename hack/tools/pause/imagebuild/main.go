// Command imagebuild packages one static binary as a container image, offline: an empty
// base, one layer holding the binary, an image config (linux/amd64 by default, user,
// entrypoint, arguments), written as a docker-archive tarball that
// `ctr -n k8s.io images import` loads. No Docker engine and no registry are involved.
//
//	imagebuild build --binary PATH --entrypoint /pause --tag localhost/real-node/pause:v1 --out FILE
//	    [--user 65535:65535] [--arg ARG]...
//
// The binary lands at the entrypoint's path. Timestamps are zero, so the same binary
// gives the same image digest.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type args []string

func (a *args) String() string     { return strings.Join(*a, " ") }
func (a *args) Set(v string) error { *a = append(*a, v); return nil }

func main() {
	if len(os.Args) < 2 || os.Args[1] != "build" {
		fmt.Fprintln(os.Stderr, "usage: imagebuild build --binary PATH --entrypoint PATH --tag REF --out FILE [--user U] [--arg A]...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	binary := fs.String("binary", "", "static binary to package")
	entrypoint := fs.String("entrypoint", "", "absolute path of the binary in the image (its entrypoint)")
	tag := fs.String("tag", "", "image reference, for example localhost/real-node/pause:v1")
	out := fs.String("out", "", "docker-archive tarball to write")
	user := fs.String("user", "65532:65532", "user:group the container runs as")
	platform := fs.String("platform", "linux/"+runtime.GOARCH, "os/arch of the image")
	var cmd args
	fs.Var(&cmd, "arg", "argument after the entrypoint (repeatable)")
	_ = fs.Parse(os.Args[2:])
	if err := build(*binary, *entrypoint, *tag, *out, *user, *platform, cmd); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func build(binary, entrypoint, tag, out, user, platform string, cmd []string) error {
	if binary == "" || tag == "" || out == "" || !path.IsAbs(entrypoint) {
		return errors.New("--binary, --tag, --out and an absolute --entrypoint are required")
	}
	osName, arch, ok := strings.Cut(platform, "/")
	if !ok {
		return fmt.Errorf("--platform %q is not os/arch", platform)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	layerTar, err := tarWith(strings.TrimPrefix(entrypoint, "/"), data)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = osName, arch
	cf.Config = v1.Config{
		Entrypoint: []string{entrypoint},
		Cmd:        cmd,
		User:       user,
		Env:        []string{"PATH=/"},
		WorkingDir: "/",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// tarWith returns a tar holding the parent folders of file and file itself (mode 0755),
// plus an empty /tmp (mode 1777), all owned by root with zero timestamps.
func tarWith(file string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{}
	for d := path.Dir(file); d != "." && d != "/"; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: file, Mode: 0o755, Size: int64(len(data)), Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
