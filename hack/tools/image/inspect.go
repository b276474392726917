package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// report is what `image inspect` prints: the config a container runtime uses and what
// the layers hold, read back from the tarball through the library (not from the inputs
// of the build), so it shows what a node will run.
type report struct {
	File     string   `json:"file"`
	FileSize int64    `json:"fileSize"`
	Tags     []string `json:"tags"`
	// Digest is the manifest digest, ConfigDigest the image ID (as `docker images` shows it).
	Digest       string            `json:"digest"`
	ConfigDigest string            `json:"configDigest"`
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Created      string            `json:"created"`
	User         string            `json:"user"`
	Entrypoint   []string          `json:"entrypoint"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"workingDir"`
	Env          []string          `json:"env,omitempty"`
	Labels       map[string]string `json:"labels"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Layers       []layerReport     `json:"layers"`
	// Size is the sum of the compressed layers (what a registry stores and a node pulls);
	// UncompressedSize what the files take on the node's disk.
	Size             int64 `json:"size"`
	UncompressedSize int64 `json:"uncompressedSize"`
}

type layerReport struct {
	Digest           string       `json:"digest"`
	DiffID           string       `json:"diffID"`
	MediaType        string       `json:"mediaType"`
	Size             int64        `json:"size"`
	UncompressedSize int64        `json:"uncompressedSize"`
	Files            []fileReport `json:"files"`
}

type fileReport struct {
	Path string `json:"path"`
	// Type is "file", "dir", "symlink" (with Link), "hardlink" or "other".
	Type string `json:"type"`
	Mode string `json:"mode"`
	Size int64  `json:"size"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
	Link string `json:"link,omitempty"`
}

// inspectImage reads the docker-archive tarball at file (it must hold one image).
func inspectImage(file string) (*report, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	manifest, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("reading the tarball's manifest.json: %w", err)
	}
	if len(manifest) != 1 {
		return nil, fmt.Errorf("%s holds %d images, want 1", file, len(manifest))
	}
	img, err := tarball.Image(opener, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	r := &report{
		File:         file,
		FileSize:     st.Size(),
		Tags:         manifest[0].RepoTags,
		Digest:       digest.String(),
		ConfigDigest: configDigest.String(),
		OS:           cf.OS,
		Architecture: cf.Architecture,
		Created:      cf.Created.UTC().Format("2006-01-02T15:04:05Z"),
		User:         cf.Config.User,
		Entrypoint:   cf.Config.Entrypoint,
		Cmd:          cf.Config.Cmd,
		WorkingDir:   cf.Config.WorkingDir,
		Env:          cf.Config.Env,
		Labels:       cf.Config.Labels,
	}
	for p := range cf.Config.ExposedPorts {
		r.ExposedPorts = append(r.ExposedPorts, p)
	}
	sort.Strings(r.ExposedPorts)

	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		lr, err := inspectLayer(l)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		r.Layers = append(r.Layers, *lr)
		r.Size += lr.Size
		r.UncompressedSize += lr.UncompressedSize
	}
	return r, nil
}

func inspectLayer(l v1.Layer) (*layerReport, error) {
	digest, err := l.Digest()
	if err != nil {
		return nil, err
	}
	diffID, err := l.DiffID()
	if err != nil {
		return nil, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return nil, err
	}
	size, err := l.Size()
	if err != nil {
		return nil, err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	lr := &layerReport{Digest: digest.String(), DiffID: diffID.String(), MediaType: string(mt), Size: size}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the layer's tar: %w", err)
		}
		f := fileReport{
			Path: path.Clean("/" + h.Name),
			Mode: fmt.Sprintf("%04o", h.Mode&0o7777),
			Size: h.Size,
			UID:  h.Uid,
			GID:  h.Gid,
		}
		switch h.Typeflag {
		case tar.TypeReg:
			f.Type = "file"
		case tar.TypeDir:
			f.Type = "dir"
		case tar.TypeSymlink:
			f.Type, f.Link = "symlink", h.Linkname
		case tar.TypeLink:
			f.Type, f.Link = "hardlink", h.Linkname
		default:
			f.Type = "other"
		}
		lr.Files = append(lr.Files, f)
		lr.UncompressedSize += h.Size
	}
	return lr, nil
}

// shells are the names of programs that would let someone run commands in the container.
var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true,
	"mksh": true, "csh": true, "tcsh": true, "fish": true, "busybox": true, "toybox": true,
}

// expectations are what `image check` asserts of a report.
type expectations struct {
	user       string
	entrypoint []string
	// labels must be present and not empty; labelValues must have these exact values.
	labels      []string
	labelValues map[string]string
	platform    string
	noShell     bool
	maxSize     int64
	// onlyFiles, when set, are the only regular files the image may hold.
	onlyFiles []string
}

// check returns one error for each expectation r does not meet.
func check(r *report, e expectations) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if e.user != "" && r.User != e.user {
		fail("user is %q, want %q", r.User, e.user)
	}
	if e.entrypoint != nil && strings.Join(r.Entrypoint, "\x00") != strings.Join(e.entrypoint, "\x00") {
		fail("entrypoint is %q, want %q", r.Entrypoint, e.entrypoint)
	}
	for _, k := range e.labels {
		if r.Labels[k] == "" {
			fail("label %s is missing or empty", k)
		}
	}
	for k, v := range e.labelValues {
		if got, ok := r.Labels[k]; !ok || got != v {
			fail("label %s is %q, want %q", k, got, v)
		}
	}
	if e.platform != "" && r.OS+"/"+r.Architecture != e.platform {
		fail("platform is %s/%s, want %s", r.OS, r.Architecture, e.platform)
	}
	if e.maxSize > 0 && r.Size > e.maxSize {
		fail("compressed size %d bytes exceeds the bound of %d", r.Size, e.maxSize)
	}
	files := map[string]fileReport{}
	for _, l := range r.Layers {
		for _, f := range l.Files {
			files[f.Path] = f
			if e.noShell && f.Type != "dir" && shells[path.Base(f.Path)] {
				fail("image holds a shell: %s", f.Path)
			}
		}
	}
	if len(r.Entrypoint) > 0 {
		f, ok := files[r.Entrypoint[0]]
		switch {
		case !ok:
			fail("entrypoint %s is not a file in the image", r.Entrypoint[0])
		case f.Type != "file":
			fail("entrypoint %s is a %s, not a regular file", r.Entrypoint[0], f.Type)
		case parseMode(f.Mode)&0o001 == 0:
			// The image's user is not root and not the file's owner: it needs the x bit for others.
			fail("entrypoint %s has mode %s: not executable by any user", r.Entrypoint[0], f.Mode)
		}
	}
	if e.onlyFiles != nil {
		allowed := map[string]bool{}
		for _, p := range e.onlyFiles {
			allowed[p] = true
			if _, ok := files[p]; !ok {
				fail("expected file %s is not in the image", p)
			}
		}
		for p, f := range files {
			if f.Type != "dir" && !allowed[p] {
				fail("unexpected %s in the image: %s", f.Type, p)
			}
		}
	}
	return errs
}

func parseMode(s string) int64 {
	var m int64
	_, _ = fmt.Sscanf(s, "%o", &m)
	return m
}
