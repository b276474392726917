package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// tinyBinary compiles a static Go program that prints a greeting and its arguments.
func tinyBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() { fmt.Println("hello from the image", strings.Join(os.Args[1:], " ")) }
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the tiny binary: %v\n%s", err, b)
	}
	return out
}

func buildTiny(t *testing.T, binary, out string, extra ...string) {
	t.Helper()
	args := append([]string{
		"--binary", binary, "--path", "/usr/local/bin/hello",
		"--entrypoint", "/usr/local/bin/hello", "--cmd", "world",
		"--user", "65532:65532", "--workdir", "/",
		"--label", "org.opencontainers.image.source=https://github.com/inferenceops/inference-operator",
		"--label", "org.opencontainers.image.revision=0123456789abcdef",
		"--label", "org.opencontainers.image.version=1.2.3",
		"--expose", "8080",
		"--platform", "linux/" + runtime.GOARCH,
		"--created", "2026-11-27T10:00:00Z",
		"--tag", "example/hello:1.2.3", "--out", out,
	}, extra...)
	if err := runBuild(args); err != nil {
		t.Fatalf("image build: %v", err)
	}
}

// TestBuildReadsBackThroughTheLibrary builds an image with the CLI and reads the tarball
// back with go-containerregistry: what a node would import and run.
func TestBuildReadsBackThroughTheLibrary(t *testing.T) {
	binary := tinyBinary(t)
	out := filepath.Join(t.TempDir(), "images", "hello.tar")
	buildTiny(t, binary, out)

	tag, err := name.NewTag("example/hello:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("the tarball holds no image tagged %s: %v", tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/usr/local/bin/hello"}) || !slices.Equal(cf.Config.Cmd, []string{"world"}) {
		t.Errorf("entrypoint %q cmd %q", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if cf.Config.WorkingDir != "/" {
		t.Errorf("working dir %q, want /", cf.Config.WorkingDir)
	}
	if _, ok := cf.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", cf.Config.ExposedPorts)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/inferenceops/inference-operator",
		"org.opencontainers.image.revision": "0123456789abcdef",
		"org.opencontainers.image.version":  "1.2.3",
	}
	for k, v := range wantLabels {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}
	if got := cf.Created.UTC().Format(time.RFC3339); got != "2026-11-27T10:00:00Z" {
		t.Errorf("created %s", got)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d (%v), want 1", len(layers), err)
	}
	if len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("rootfs has %d diff IDs, want 1", len(cf.RootFS.DiffIDs))
	}

	// The flattened file system: exactly the binary and its parent directories, root-owned.
	want, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	var content []byte
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, h.Name)
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, want root", h.Name, h.Uid, h.Gid)
		}
		if strings.HasSuffix(h.Name, "/sh") || strings.HasSuffix(h.Name, "/bash") {
			t.Errorf("the image holds a shell: %s", h.Name)
		}
		if h.Name == "usr/local/bin/hello" {
			if h.Mode&0o7777 != 0o755 {
				t.Errorf("binary mode %o, want 755", h.Mode)
			}
			if content, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(entries, []string{"usr", "usr/local", "usr/local/bin", "usr/local/bin/hello"}) {
		t.Errorf("image files %q, want only the binary and its directories", entries)
	}
	if string(content) != string(want) {
		t.Fatalf("the binary in the image differs from the input (%d vs %d bytes)", len(content), len(want))
	}

	// The bytes in the layer are a working program.
	extracted := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(extracted, content, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(extracted, cf.Config.Cmd...).Output()
	if err != nil {
		t.Fatalf("running the extracted binary: %v", err)
	}
	if strings.TrimSpace(string(got)) != "hello from the image world" {
		t.Errorf("extracted binary printed %q", got)
	}

	// inspect reports the same, and check passes on it.
	r, err := inspectImage(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Tags, []string{"example/hello:1.2.3"}) || r.User != "65532:65532" || r.Size <= 0 || r.Size >= r.FileSize {
		t.Errorf("inspect: tags %q user %q size %d file %d", r.Tags, r.User, r.Size, r.FileSize)
	}
	errs := check(r, expectations{
		user: "65532:65532", entrypoint: []string{"/usr/local/bin/hello"}, noShell: true,
		labels:    []string{"org.opencontainers.image.source", "org.opencontainers.image.revision"},
		platform:  "linux/" + runtime.GOARCH,
		maxSize:   r.Size,
		onlyFiles: []string{"/usr/local/bin/hello"},
	})
	if len(errs) > 0 {
		t.Errorf("check failed on a good image: %v", errs)
	}
	t.Logf("tiny image: %d bytes compressed, %d in the tarball, digest %s", r.Size, r.FileSize, r.Digest)
}

// TestBuildIsReproducible: the same inputs give the same digest; a changed label does not.
func TestBuildIsReproducible(t *testing.T) {
	binary := tinyBinary(t)
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar"), filepath.Join(dir, "c.tar")
	buildTiny(t, binary, a)
	buildTiny(t, binary, b)
	buildTiny(t, binary, c, "--label", "org.opencontainers.image.revision=fedcba9876543210")
	ra, _ := inspectImage(a)
	rb, _ := inspectImage(b)
	rc, _ := inspectImage(c)
	if ra == nil || rb == nil || rc == nil {
		t.Fatal("inspecting the images failed")
	}
	if ra.Digest != rb.Digest {
		t.Errorf("two builds of the same inputs differ: %s vs %s", ra.Digest, rb.Digest)
	}
	if ra.Digest == rc.Digest {
		t.Errorf("a different revision label gave the same digest %s", ra.Digest)
	}
}

// TestCheckCatchesBadImages: each broken expectation is reported.
func TestCheckCatchesBadImages(t *testing.T) {
	binary := tinyBinary(t)
	dir := t.TempDir()

	// A "shell": the binary installed as /bin/sh, with the entrypoint pointing elsewhere.
	shell := filepath.Join(dir, "shell.tar")
	if err := runBuild([]string{"--binary", binary, "--path", "/bin/sh", "--entrypoint", "/manager",
		"--user", "0", "--tag", "bad:1", "--out", shell}); err != nil {
		t.Fatal(err)
	}
	r, err := inspectImage(shell)
	if err != nil {
		t.Fatal(err)
	}
	errs := check(r, expectations{
		user: "65532:65532", entrypoint: []string{"/manager"}, noShell: true,
		labels: []string{"org.opencontainers.image.revision"}, maxSize: 1024,
		onlyFiles: []string{"/manager"},
	})
	text := ""
	for _, err := range errs {
		text += err.Error() + "\n"
	}
	for _, want := range []string{
		`user is "0", want "65532:65532"`,
		"label org.opencontainers.image.revision is missing",
		"image holds a shell: /bin/sh",
		"exceeds the bound of 1024",
		"entrypoint /manager is not a file in the image",
		"expected file /manager is not in the image",
		"unexpected file in the image: /bin/sh",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("check did not report %q; it reported:\n%s", want, text)
		}
	}
	if err := runCheck([]string{shell, "--user", "65532:65532"}); err == nil {
		t.Error("image check exited 0 on a failing image")
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"100MiB": 100 << 20, "1.5KiB": 1536, "80MB": 80e6, "123": 123} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseBytes("ten"); err == nil {
		t.Error("parseBytes accepted ten")
	}
}
