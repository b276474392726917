package iris

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestDataSetIsFishers checks the transcription against what is published of the data:
// 150 rows, 50 of each species, the species' means (R's aggregate(. ~ Species, iris, mean))
// and the two rows where UCI's copy is known to differ from Fisher's table.
func TestDataSetIsFishers(t *testing.T) {
	samples, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 150 {
		t.Fatalf("%d rows, want 150", len(samples))
	}
	counts := make([]int, len(Classes))
	sums := make([][]float64, len(Classes))
	for c := range sums {
		sums[c] = make([]float64, len(Features))
	}
	for _, s := range samples {
		counts[s.Class]++
		for j, v := range s.Features {
			sums[s.Class][j] += v
		}
	}
	wantMeans := [][]float64{
		{5.006, 3.428, 1.462, 0.246}, // setosa
		{5.936, 2.770, 4.260, 1.326}, // versicolor
		{6.588, 2.974, 5.552, 2.026}, // virginica
	}
	for c := range Classes {
		if counts[c] != 50 {
			t.Errorf("%s has %d rows, want 50", Classes[c], counts[c])
		}
		for j := range Features {
			if mean := sums[c][j] / float64(counts[c]); math.Abs(mean-wantMeans[c][j]) > 5e-4 {
				t.Errorf("mean %s of %s is %.4f, want %.3f", Features[j], Classes[c], mean, wantMeans[c][j])
			}
		}
	}
	// Rows 35 and 38 (1-based) as Fisher printed them; UCI's iris.data has 4.9,3.1,1.5,0.1 in both.
	if got := samples[34].Features; !slices.Equal(got, []float64{4.9, 3.1, 1.5, 0.2}) {
		t.Errorf("row 35 is %v, want Fisher's 4.9 3.1 1.5 0.2", got)
	}
	if got := samples[37].Features; !slices.Equal(got, []float64{4.9, 3.6, 1.4, 0.1}) {
		t.Errorf("row 38 is %v, want Fisher's 4.9 3.6 1.4 0.1", got)
	}
}

func TestSplitIsStratified(t *testing.T) {
	samples, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	train, heldOut := Split(samples)
	if len(train) != 120 || len(heldOut) != 30 {
		t.Fatalf("split %d/%d, want 120/30", len(train), len(heldOut))
	}
	perClass := make([]int, len(Classes))
	for _, s := range heldOut {
		perClass[s.Class]++
	}
	if !slices.Equal(perClass, []int{10, 10, 10}) {
		t.Errorf("held out per species %v, want 10 each", perClass)
	}
	// The held-out rows are the 5th, 10th, ... of each species: row 5 is setosa's 5th.
	if !slices.Equal(heldOut[0].Features, samples[4].Features) {
		t.Errorf("first held-out row %v, want row 5 %v", heldOut[0].Features, samples[4].Features)
	}
}

// TestShippedModelIsTheTrainersOutput: model.json is what `go generate` makes from
// iris.csv today (regenerate it after changing either), and the held-out accuracy it
// records is the accuracy it has.
func TestShippedModelIsTheTrainersOutput(t *testing.T) {
	shipped, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if shipped.DatasetSHA256 != DatasetSHA256() {
		t.Errorf("model.json was trained on a data set with digest %s; iris.csv has %s: run go generate", shipped.DatasetSHA256, DatasetSHA256())
	}
	trained, err := Train()
	if err != nil {
		t.Fatal(err)
	}
	if shipped.Training != trained.Training {
		t.Errorf("model.json was trained with %+v; the trainer uses %+v: run go generate", shipped.Training, trained.Training)
	}
	// Tolerance for floating-point differences between CPUs (fused multiply-add on arm64).
	near := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-6*(1+math.Abs(a[i])) {
				return false
			}
		}
		return len(a) == len(b)
	}
	for c := range trained.Model.Weights {
		if !near(shipped.Model.Weights[c], trained.Model.Weights[c]) {
			t.Errorf("weights of %s differ: shipped %v, trained %v: run go generate", Classes[c], shipped.Model.Weights[c], trained.Model.Weights[c])
		}
	}
	if !near(shipped.Model.Bias, trained.Model.Bias) || !near(shipped.Model.Mean, trained.Model.Mean) || !near(shipped.Model.Scale, trained.Model.Scale) {
		t.Error("bias, mean or scale differ from the trainer's: run go generate")
	}
}

// TestHeldOutAccuracy is the figure a user of the model cares about: how often it names
// the species of a flower it never saw in training.
func TestHeldOutAccuracy(t *testing.T) {
	shipped, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	train, heldOut := Split(samples)
	x, y := Columns(heldOut)
	acc := shipped.Model.Accuracy(x, y)
	tx, ty := Columns(train)
	t.Logf("held-out accuracy %.3f (%d of %d rows), training accuracy %.3f (%d rows)",
		acc, int(math.Round(acc*float64(len(x)))), len(x), shipped.Model.Accuracy(tx, ty), len(tx))
	if acc < 0.9 {
		t.Errorf("held-out accuracy %.3f, want at least 0.9", acc)
	}
	if fmt.Sprintf("%.6f", acc) != fmt.Sprintf("%.6f", shipped.HeldOutAccuracy) {
		t.Errorf("model.json records held-out accuracy %.6f, the model has %.6f", shipped.HeldOutAccuracy, acc)
	}
	// Every misclassified held-out flower is a versicolor/virginica confusion: setosa is
	// linearly separable from the others, so a model that gets one wrong is broken.
	for i, row := range x {
		if p := shipped.Model.Predict(row); p != y[i] && (p == 0 || y[i] == 0) {
			t.Errorf("held-out row %d (%s) classified as %s", i, Classes[y[i]], Classes[p])
		}
	}
}
