package main

import (
	"context"
	"errors"
	"fmt"
)

// scaleNamespace holds figure 8's InferenceServices.
const scaleNamespace = "bench-scale"

// goalScaleN is the N of issue 14's scale figure (its figure 6).
const goalScaleN = 10000

// scaleFigure is figure 8 (issue 14's figure 6): a fresh manager converging scale-n new
// InferenceServices on an API server of their own at the shipped setting, its memory once
// idle, and a no-op restart over all of them.
type scaleFigure struct {
	Run convergenceRun `json:"run"`
	// ReconcileErrors is controller_runtime_reconcile_errors_total after the convergence.
	ReconcileErrors int `json:"reconcileErrors"`
	// PeakRSS and RSS are read once the converged manager is idle and settled.
	PeakRSS   int64       `json:"peakRSSBytes"`
	RSS       int64       `json:"rssBytes"`
	HeapInuse int64       `json:"heapInuseBytes"`
	Restart   *noOpFigure `json:"restart,omitempty"`
}

// scale measures figure 8 on a fresh API server.
func (b *bench) scale(ctx context.Context) error {
	c, err := b.startCluster("scale")
	if err != nil {
		return err
	}
	fig := &scaleFigure{}
	b.results.Scale = fig
	run, m, err := b.converge(ctx, c, scaleNamespace, "scale", b.opts.scaleN, b.opts.operator, "figure8")
	fig.Run = run
	if err != nil {
		fig.Run.Error = err.Error()
		b.results.fail("figure 8: %d InferenceServices did not converge: %v", b.opts.scaleN, err)
	} else {
		err = b.scaleIdle(ctx, c, m, fig)
	}
	if err == nil {
		m, fig.Restart, err = b.restart(ctx, c, m, "figure8-restart")
	}
	if m != nil {
		err = errors.Join(err, b.stopManager(m))
	}
	if ctx.Err() != nil {
		return errors.Join(err, b.stopCluster(c))
	}
	if err != nil && fig.Run.Error == "" {
		b.results.fail("figure 8: %v", err)
	}
	return b.stopCluster(c)
}

// scaleIdle waits until the converged manager is idle, lets it settle and reads its
// memory and reconcile errors into fig.
func (b *bench) scaleIdle(ctx context.Context, c *cluster, m *managerProcess, fig *scaleFigure) error {
	point, scraped, err := b.idleMemory(ctx, c, m, b.opts.scaleN)
	if err != nil {
		return err
	}
	fig.PeakRSS, fig.RSS, fig.HeapInuse = point.PeakRSS, point.RSS, point.HeapInuse
	fig.ReconcileErrors = scraped.reconcileErrors()
	progressf("  %d CRs idle: peak RSS %.1f MiB, RSS %.1f MiB, heap in use %.1f MiB, %d reconcile errors",
		b.opts.scaleN, mib(fig.PeakRSS), mib(fig.RSS), mib(fig.HeapInuse), fig.ReconcileErrors)
	return nil
}

// scaleRows are figure 8's lines of the summary table.
func (r *Results) scaleRows(notMeasured string) []row {
	title := fmt.Sprintf("8. scale: %d CRs converge", r.Settings.ScaleN)
	f := r.Scale
	if f == nil {
		return []row{{title, notMeasured, "", ""}}
	}
	run := f.Run
	if run.Error != "" {
		return []row{{title, "did not converge; see the failures below", "no error", verdictFail}}
	}
	return append([]row{
		{title,
			fmt.Sprintf("%.1f s (%.0f CRs/s), %.1f requests per CR (%s), manager CPU %.1f s (%.1f ms per CR)",
				run.Seconds, float64(run.N)/run.Seconds, perCR(run.Requests.Total, run.N), run.Requests.writesByMethod(),
				run.CPUSeconds, 1000*run.CPUSeconds/float64(run.N)),
			"time printed", ""},
		{"   children, reconcile errors",
			fmt.Sprintf("%s; %d errors", run.Children, f.ReconcileErrors), "N each, 0 errors",
			invariantVerdict(run.Children == childCounts{run.N, run.N, run.N} && f.ReconcileErrors == 0)},
		{"   peak RSS once idle",
			fmt.Sprintf("%.1f MiB (RSS %.1f MiB, heap in use %.1f MiB)", mib(f.PeakRSS), mib(f.RSS), mib(f.HeapInuse)),
			"printed", ""},
	}, restartRows("   no-op restart", f.Restart, notMeasured)...)
}
