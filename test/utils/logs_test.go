package utils

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
)

func TestLoggedObjects(t *testing.T) {
	g := NewWithT(t)
	log := `{"level":"Level(-5)","msg":"Reconciling","controller":"inferenceservice","namespace":"a","name":"x"}
{"level":"Level(-5)","msg":"Reconcile successful","controller":"inferenceservice","namespace":"a","name":"x"}
not json, but it says Reconcile successful
{"level":"info","msg":"Reconcile successful soon","namespace":"a","name":"y"}
{"level":"Level(-5)","msg":"Reconcile successful","namespace":"b","name":"x"}
{"level":"Level(-5)","msg":"Reconcile successful","namespace":"a","name":"x"}
`
	g.Expect(LoggedObjects(log, LogReconcileSuccessful)).To(Equal(map[types.NamespacedName]int{
		{Namespace: "a", Name: "x"}: 2,
		{Namespace: "b", Name: "x"}: 1,
	}))
	g.Expect(LoggedObjects(log, LogReconciling)).To(HaveLen(1))
	g.Expect(WithoutReconcileLines(log)).To(Equal("not json, but it says Reconcile successful\n" +
		`{"level":"info","msg":"Reconcile successful soon","namespace":"a","name":"y"}` + "\n"))
}
