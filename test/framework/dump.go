package framework

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2"

	"github.com/inferenceops/inference-operator/test/utils"
)

// Dump says what a failure report holds: the log of every registered operator process,
// the logs of operator pods, the events, the objects and the cluster components' logs.
type Dump struct {
	Cluster *Cluster
	// Objects are the kinds listed in every namespace, such as "infsvc,deploy,hpa,pods".
	Objects string
	// ObjectLines and EventLines bound what is printed (the last lines), 0 for all.
	ObjectLines, EventLines int
	// OperatorLines bounds each operator log (the last lines but the per-reconcile ones).
	OperatorLines int
	// Releases are operators running as pods, whose logs are printed.
	Releases []*OperatorRelease
	// LogGlobs are the component log files; each one's last ComponentLines are printed.
	LogGlobs       []string
	ComponentLines int
}

// DumpOnFailure registers a ReportAfterEach that writes the dump of dump() after each
// failed spec. Call it at the top level of a suite: var _ = framework.DumpOnFailure(...).
func DumpOnFailure(dump func() *Dump) bool {
	ginkgo.ReportAfterEach(func(report ginkgo.SpecReport) {
		if !report.Failed() {
			return
		}
		if d := dump(); d != nil {
			d.Write(ginkgo.GinkgoWriter)
		}
	})
	return true
}

func lastLines(s string, n int) string {
	if n <= 0 {
		return s
	}
	return utils.Tail(s, n)
}

// Write prints the dump.
func (d *Dump) Write(w io.Writer) {
	for _, p := range Operators() {
		if log, err := os.ReadFile(p.LogPath); err == nil {
			_, _ = fmt.Fprintf(w, "\n===== operator %q log %s (last %d lines but the per-reconcile ones)\n%s\n",
				p.Name, p.LogPath, d.OperatorLines, lastLines(utils.WithoutReconcileLines(string(log)), d.OperatorLines))
		}
	}
	for _, r := range d.Releases {
		_, _ = fmt.Fprintf(w, "\n===== operator pod log, release %s in %s\n%s\n", r.Release, r.Namespace, r.Logs(d.OperatorLines))
	}
	if d.Cluster != nil {
		if out, err := d.Cluster.Kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"); err == nil {
			_, _ = fmt.Fprintf(w, "\n===== events (last %d)\n%s\n", d.EventLines, lastLines(out, d.EventLines))
		}
		if d.Objects != "" {
			if out, err := d.Cluster.Kubectl("get", d.Objects, "-A", "-o", "wide"); err == nil {
				_, _ = fmt.Fprintf(w, "\n===== objects (last %d lines)\n%s\n", d.ObjectLines, lastLines(out, d.ObjectLines))
			}
		}
	}
	for _, glob := range d.LogGlobs {
		paths, _ := filepath.Glob(glob)
		for _, path := range paths {
			if content, err := os.ReadFile(path); err == nil {
				_, _ = fmt.Fprintf(w, "\n===== %s (last %d lines)\n%s\n", path, d.ComponentLines, lastLines(string(content), d.ComponentLines))
			}
		}
	}
}
