// Command image builds container images from one static binary without a Docker engine
// or a registry, and inspects and checks them. It backs `make image`,
// `make image-model-server` and `make image-check`.
//
//	image build --binary bin/manager --path /manager --user 65532:65532 \
//	    --label org.opencontainers.image.version=0.1.0 --tag inference-operator:0.1.0 \
//	    --out bin/images/inference-operator-0.1.0.tar
//	image inspect bin/images/inference-operator-0.1.0.tar
//	image check bin/images/inference-operator-0.1.0.tar --user 65532:65532 \
//	    --entrypoint /manager --require-label org.opencontainers.image.revision --max-size 100MiB
//
// The image is a docker-archive tarball (`docker load`, `ctr images import`) built with
// github.com/google/go-containerregistry: an empty base, one layer with the binary, and a
// config with platform, user, entrypoint, working directory and labels.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = runBuild(os.Args[2:])
	case "inspect":
		err = runInspect(os.Args[2:])
	case "check":
		err = runCheck(os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  image build --binary FILE [--path /NAME] [--entrypoint ARG]... [--cmd ARG]... [--user UID:GID]
              [--workdir DIR] [--env K=V]... [--label K=V]... [--expose PORT/tcp]...
              [--platform linux/amd64] [--created RFC3339|unix-seconds] --tag NAME:TAG --out FILE
  image inspect FILE          print the image config, layers, files and size as JSON
  image check FILE [--user U] [--entrypoint ARG]... [--require-label K]... [--label K=V]...
              [--platform OS/ARCH] [--no-shell=true] [--max-size 100MiB] [--only-file PATH]...
`)
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runBuild(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var (
		binary     = fs.String("binary", "", "static binary to put in the image (required)")
		binaryPath = fs.String("path", "", "absolute path of the binary in the image (default /<file name>)")
		user       = fs.String("user", "65532:65532", "user (and group) the container runs as")
		workdir    = fs.String("workdir", "/", "working directory")
		platform   = fs.String("platform", "linux/amd64", "OS/architecture of the binary")
		created    = fs.String("created", "",
			"creation time, RFC 3339 or Unix seconds (default: SOURCE_DATE_EPOCH, else the Unix epoch: reproducible)")
		tag = fs.String("tag", "", "image name and tag written into the tarball (required)")
		out = fs.String("out", "", "docker-archive tarball to write (required)")
	)
	var entrypoint, cmd, env, labels, expose listFlag
	fs.Var(&entrypoint, "entrypoint", "entrypoint argument, repeated for each (default: the binary's path)")
	fs.Var(&cmd, "cmd", "cmd argument, repeated for each")
	fs.Var(&env, "env", "environment variable K=V, repeated")
	fs.Var(&labels, "label", "label K=V, repeated")
	fs.Var(&expose, "expose", "exposed port such as 8080/tcp, repeated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *tag == "" || *out == "" || fs.NArg() > 0 {
		return errors.New("build needs --binary, --tag and --out, and no other arguments")
	}
	if *binaryPath == "" {
		*binaryPath = "/" + filepath.Base(*binary)
	}
	osName, arch, ok := strings.Cut(*platform, "/")
	if !ok || osName == "" || arch == "" {
		return fmt.Errorf("--platform %q is not OS/ARCH", *platform)
	}
	createdAt, err := parseCreated(*created)
	if err != nil {
		return err
	}
	labelMap := map[string]string{}
	for _, kv := range labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--label %q is not K=V", kv)
		}
		labelMap[k] = v
	}
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("--env %q is not K=V", kv)
		}
	}
	img, err := buildImage(buildOptions{
		binary: *binary, binaryPath: *binaryPath,
		entrypoint: entrypoint, cmd: cmd, user: *user, workingDir: *workdir,
		env: env, labels: labelMap, exposedPorts: expose,
		os: osName, architecture: arch, created: createdAt,
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := writeImage(img, *tag, *out); err != nil {
		return err
	}
	r, err := inspectImage(*out)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", *out, err)
	}
	fmt.Printf("wrote %s: %s (%s), %s compressed, %s on disk, digest %s\n",
		*out, *tag, r.OS+"/"+r.Architecture, humanBytes(r.Size), humanBytes(r.UncompressedSize), r.Digest)
	return nil
}

func runInspect(args []string) error {
	if len(args) != 1 {
		return errors.New("inspect needs exactly one tarball")
	}
	r, err := inspectImage(args[0])
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func runCheck(args []string) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("check needs the tarball first, then the expectations")
	}
	file := args[0]
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var (
		user     = fs.String("user", "", "expected user")
		platform = fs.String("platform", "", "expected OS/ARCH")
		noShell  = fs.Bool("no-shell", true, "fail when the image holds a shell")
		maxSize  = fs.String("max-size", "", "upper bound of the compressed size, such as 100MiB")
	)
	var entrypoint, requireLabels, labels, onlyFiles listFlag
	fs.Var(&entrypoint, "entrypoint", "expected entrypoint argument, repeated for each")
	fs.Var(&requireLabels, "require-label", "label that must be present and not empty, repeated")
	fs.Var(&labels, "label", "label K=V that must have that value, repeated")
	fs.Var(&onlyFiles, "only-file", "the only regular files the image may hold, repeated")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	e := expectations{
		user: *user, entrypoint: entrypoint, labels: requireLabels, platform: *platform,
		noShell: *noShell, onlyFiles: onlyFiles, labelValues: map[string]string{},
	}
	for _, kv := range labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--label %q is not K=V", kv)
		}
		e.labelValues[k] = v
	}
	if *maxSize != "" {
		n, err := parseBytes(*maxSize)
		if err != nil {
			return err
		}
		e.maxSize = n
	}
	r, err := inspectImage(file)
	if err != nil {
		return err
	}
	files := 0
	for _, l := range r.Layers {
		files += len(l.Files)
	}
	fmt.Printf("%s: %s, user %s, entrypoint %q, %d labels, %d layer(s) with %d entries, %s compressed (%d bytes), %s on disk\n",
		file, strings.Join(r.Tags, ","), r.User, r.Entrypoint, len(r.Labels), len(r.Layers), files,
		humanBytes(r.Size), r.Size, humanBytes(r.UncompressedSize))
	if errs := check(r, e); len(errs) > 0 {
		for _, err := range errs {
			fmt.Println("FAIL:", err)
		}
		return fmt.Errorf("%s: %d check(s) failed", file, len(errs))
	}
	fmt.Println("ok: every check passed")
	return nil
}

func parseCreated(s string) (time.Time, error) {
	if s == "" {
		s = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("creation time %q is neither RFC 3339 nor Unix seconds", s)
	}
	return t.UTC(), nil
}

// parseBytes reads sizes such as 100MiB, 80MB, 1GiB or 123456.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("size %q is not a number of %s", s, u.suffix)
			}
			return int64(f * float64(u.factor)), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q is not a byte count such as 100MiB", s)
	}
	return n, nil
}

func humanBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
