package logreg

import (
	"math"
	"testing"
)

// Three well-separated clusters in two dimensions: a correct trainer classifies them all.
func clusters() ([][]float64, []int) {
	centres := [][2]float64{{0, 0}, {10, 0}, {0, 10}}
	offsets := [][2]float64{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}, {0, 0}, {0.5, -0.5}}
	x := make([][]float64, 0, len(centres)*len(offsets))
	y := make([]int, 0, len(centres)*len(offsets))
	for c, ctr := range centres {
		for _, o := range offsets {
			x = append(x, []float64{ctr[0] + o[0], ctr[1] + o[1]})
			y = append(y, c)
		}
	}
	return x, y
}

func TestTrainSeparatesClusters(t *testing.T) {
	x, y := clusters()
	m, err := Train(x, y, []string{"a", "b"}, []string{"one", "two", "three"}, TrainOptions{Epochs: 500, LearningRate: 0.5, L2: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if acc := m.Accuracy(x, y); acc != 1 {
		t.Errorf("training accuracy %.3f on separable clusters, want 1", acc)
	}
	// A point near each centre goes to that class with high probability; probabilities sum to 1.
	for c, p := range [][]float64{{0.2, 0.1}, {9.7, 0.3}, {0.1, 9.8}} {
		proba := m.PredictProba(p)
		sum := 0.0
		for _, v := range proba {
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 || proba[c] < 0.9 {
			t.Errorf("point %v: probabilities %v (sum %v), want class %d above 0.9", p, proba, sum, c)
		}
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	x, y := clusters()
	o := TrainOptions{Epochs: 50, LearningRate: 0.3, L2: 0.01}
	a, _ := Train(x, y, []string{"a", "b"}, []string{"1", "2", "3"}, o)
	b, _ := Train(x, y, []string{"a", "b"}, []string{"1", "2", "3"}, o)
	for c := range a.Weights {
		for j := range a.Weights[c] {
			if a.Weights[c][j] != b.Weights[c][j] {
				t.Fatalf("two trainings on the same data differ at weight [%d][%d]", c, j)
			}
		}
	}
}

func TestTrainAndValidateRefuseBadInput(t *testing.T) {
	x, y := clusters()
	if _, err := Train(x, y[:3], []string{"a", "b"}, []string{"1", "2", "3"}, TrainOptions{Epochs: 1, LearningRate: 1}); err == nil {
		t.Error("Train accepted fewer labels than rows")
	}
	if _, err := Train(x, y, []string{"a", "b"}, []string{"1", "2"}, TrainOptions{Epochs: 1, LearningRate: 1}); err == nil {
		t.Error("Train accepted a label outside the classes")
	}
	m, _ := Train(x, y, []string{"a", "b"}, []string{"1", "2", "3"}, TrainOptions{Epochs: 1, LearningRate: 1})
	m.Bias[0] = math.NaN()
	if m.Validate() == nil {
		t.Error("Validate accepted a NaN bias")
	}
	m.Weights = m.Weights[:2]
	if m.Validate() == nil {
		t.Error("Validate accepted weights for two of three classes")
	}
}
