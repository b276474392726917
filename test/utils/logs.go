package utils

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// Messages controller-runtime logs at level 5 (--zap-log-level=5) for every reconcile, with
// the request's "namespace" and "name".
const (
	LogReconciling         = "Reconciling"
	LogReconcileSuccessful = "Reconcile successful"
)

// LoggedObjects counts, by namespace and name, the lines of a JSON log (the manager's
// default encoding) whose message is msg.
func LoggedObjects(log, msg string) map[types.NamespacedName]int {
	counts := map[types.NamespacedName]int{}
	scanner := bufio.NewScanner(strings.NewReader(log))
	scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		line := scanner.Bytes()
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		var entry struct {
			Msg       string `json:"msg"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == msg {
			counts[types.NamespacedName{Namespace: entry.Namespace, Name: entry.Name}]++
		}
	}
	return counts
}

// WithoutReconcileLines drops the lines controller-runtime logs at level 5 for every
// reconcile, which would hide everything else in a failure report.
func WithoutReconcileLines(log string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(log, "\n") {
		if strings.Contains(line, `"msg":"`+LogReconciling+`"`) || strings.Contains(line, `"msg":"`+LogReconcileSuccessful+`"`) {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}
