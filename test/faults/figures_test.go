//go:build e2e

package faults

import (
	"fmt"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
)

// faultFigures are the numbers the suite ends with (issue 5, "Figures").
type faultFigures struct {
	mu sync.Mutex

	faultKinds []string
	faults     map[string]int

	// selfExits are operator processes that exited without being killed, and why.
	selfExits []string

	crsConverged, crsTotal int
	orphans                int
	replicaDecreases       int
	// replicaResets is -1 until scenario 4 has measured it.
	replicaResets      int
	reconcilesUnderHPA int
	// handoverSeconds is -1 until scenario 3 has measured it.
	handoverSeconds float64
	handoverLimit   float64
	// apiserverReturnToConverged is how long after kube-apiserver answered again every
	// InferenceService was Ready (-1 until measured).
	apiserverReturnToConverged float64

	printed bool
}

func newFaultFigures() *faultFigures {
	return &faultFigures{faults: map[string]int{}, replicaResets: -1, handoverSeconds: -1,
		handoverLimit: (leaseDuration + renewDeadline).Seconds(), apiserverReturnToConverged: -1}
}

func (f *faultFigures) addFault(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.faults[kind]; !ok {
		f.faultKinds = append(f.faultKinds, kind)
	}
	f.faults[kind]++
}

func (f *faultFigures) totalFaults() int {
	total := 0
	for _, n := range f.faults {
		total += n
	}
	return total
}

// print writes the table to the test output.
func (f *faultFigures) print(title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.printed = true
	measured := func(v float64, format string) string {
		if v < 0 {
			return "not measured"
		}
		return fmt.Sprintf(format, v)
	}
	resets := "not measured"
	if f.replicaResets >= 0 {
		resets = fmt.Sprintf("%d (over %d reconciles of the held Deployment)", f.replicaResets, f.reconcilesUnderHPA)
	}
	rows := make([][3]string, 0, len(f.faultKinds)+10)
	rows = append(rows, [3]string{"faults injected", fmt.Sprint(f.totalFaults()), ""})
	for _, kind := range f.faultKinds {
		rows = append(rows, [3]string{"  " + kind, fmt.Sprint(f.faults[kind]), ""})
	}
	rows = append(rows,
		[3]string{"operator exits not caused by a kill", fmt.Sprint(len(f.selfExits)), "see below"},
		[3]string{"CRs converged", fmt.Sprintf("%d/%d", f.crsConverged, f.crsTotal), "all"},
		[3]string{"orphans", fmt.Sprint(f.orphans), "0"},
		[3]string{"replica decreases", fmt.Sprint(f.replicaDecreases), "0"},
		[3]string{"replica resets", resets, "0"},
		[3]string{"handover seconds", measured(f.handoverSeconds, "%.1f"), measured(f.handoverLimit, "<= %.0f")},
		[3]string{"seconds to converge after kube-apiserver returned", measured(f.apiserverReturnToConverged, "%.1f"), "<= 60"},
		[3]string{"invalid inputs tried/refused", "see make test (test/validation)", ""},
		[3]string{"valid inputs tried/accepted", "see make test (test/validation)", ""},
	)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n===== fault-injection figures (%s)\n", title)
	fmt.Fprintf(&b, "%-*s  %-48s  %s\n", width, "figure", "value", "must be")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %-48s  %s\n", width, r[0], r[1], r[2])
	}
	for _, exit := range f.selfExits {
		fmt.Fprintf(&b, "operator exit: %s\n", exit)
	}
	_, _ = fmt.Fprint(GinkgoWriter, b.String())
}
