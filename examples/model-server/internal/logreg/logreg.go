// Package logreg is a multinomial logistic regression (softmax) classifier: trained by
// full-batch gradient descent on standardized features, stored as JSON, evaluated in
// a few dozen floating-point operations per row.
package logreg

import (
	"errors"
	"fmt"
	"math"
)

// Model is a trained classifier. Features are standardized with Mean and Scale before
// the linear scores Weights·x + Bias go through a softmax.
type Model struct {
	Features []string `json:"features"`
	Classes  []string `json:"classes"`
	// Mean and Scale standardize each feature: (x - Mean) / Scale.
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
	// Weights has one row per class, one column per feature.
	Weights [][]float64 `json:"weights"`
	Bias    []float64   `json:"bias"`
}

// TrainOptions are the hyperparameters of Train.
type TrainOptions struct {
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learningRate"`
	// L2 is the weight decay on Weights (not on Bias).
	L2 float64 `json:"l2"`
}

// Train fits a model to rows x with class indexes y. The weights start at zero and every
// step uses the whole training set, so the result depends only on the data and the
// options: there is no random seed to fix.
func Train(x [][]float64, y []int, features, classes []string, o TrainOptions) (*Model, error) {
	n, d, k := len(x), len(features), len(classes)
	switch {
	case n == 0 || n != len(y):
		return nil, fmt.Errorf("need as many labels as rows, and at least one row (rows %d, labels %d)", n, len(y))
	case d == 0 || k < 2:
		return nil, fmt.Errorf("need at least one feature and two classes (features %d, classes %d)", d, k)
	case o.Epochs <= 0 || o.LearningRate <= 0 || o.L2 < 0:
		return nil, fmt.Errorf("invalid options %+v", o)
	}
	m := &Model{
		Features: features, Classes: classes,
		Mean: make([]float64, d), Scale: make([]float64, d),
		Weights: make([][]float64, k), Bias: make([]float64, k),
	}
	for i, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("row %d has %d features, want %d", i, len(row), d)
		}
		if y[i] < 0 || y[i] >= k {
			return nil, fmt.Errorf("row %d has class %d, want 0..%d", i, y[i], k-1)
		}
		for j, v := range row {
			m.Mean[j] += v / float64(n)
		}
	}
	for _, row := range x {
		for j, v := range row {
			m.Scale[j] += (v - m.Mean[j]) * (v - m.Mean[j]) / float64(n)
		}
	}
	for j := range m.Scale {
		m.Scale[j] = math.Sqrt(m.Scale[j])
		if m.Scale[j] == 0 {
			m.Scale[j] = 1 // a constant feature: leave it centred, unscaled
		}
	}
	z := make([][]float64, n)
	for i, row := range x {
		z[i] = m.standardize(row)
	}
	for c := range m.Weights {
		m.Weights[c] = make([]float64, d)
	}

	gradW := make([][]float64, k)
	for c := range gradW {
		gradW[c] = make([]float64, d)
	}
	gradB := make([]float64, k)
	p := make([]float64, k)
	for range o.Epochs {
		for c := range gradW {
			clear(gradW[c])
		}
		clear(gradB)
		for i, row := range z {
			m.probabilities(row, p)
			for c := range p {
				diff := p[c]
				if c == y[i] {
					diff--
				}
				for j, v := range row {
					gradW[c][j] += diff * v
				}
				gradB[c] += diff
			}
		}
		for c := range m.Weights {
			for j := range m.Weights[c] {
				m.Weights[c][j] -= o.LearningRate * (gradW[c][j]/float64(n) + o.L2*m.Weights[c][j])
			}
			m.Bias[c] -= o.LearningRate * gradB[c] / float64(n)
		}
	}
	return m, nil
}

// Validate reports a model whose parts do not fit together or hold non-finite numbers.
func (m *Model) Validate() error {
	d, k := len(m.Features), len(m.Classes)
	if d == 0 || k < 2 {
		return fmt.Errorf("model has %d features and %d classes", d, k)
	}
	if len(m.Mean) != d || len(m.Scale) != d || len(m.Weights) != k || len(m.Bias) != k {
		return errors.New("model's mean, scale, weights and bias do not match its features and classes")
	}
	check := func(vs []float64) error {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.New("model holds a non-finite number")
			}
		}
		return nil
	}
	for _, s := range m.Scale {
		if s == 0 {
			return errors.New("model has a zero scale")
		}
	}
	for _, w := range m.Weights {
		if len(w) != d {
			return errors.New("model's weights do not match its features")
		}
		if err := check(w); err != nil {
			return err
		}
	}
	if err := check(m.Mean); err != nil {
		return err
	}
	if err := check(m.Scale); err != nil {
		return err
	}
	return check(m.Bias)
}

// PredictProba returns the probability of each class for one row of len(Features) values.
func (m *Model) PredictProba(x []float64) []float64 {
	p := make([]float64, len(m.Classes))
	m.probabilities(m.standardize(x), p)
	return p
}

// Predict returns the most probable class's index for one row.
func (m *Model) Predict(x []float64) int {
	return argmax(m.PredictProba(x))
}

// Accuracy is the share of rows whose predicted class is the label.
func (m *Model) Accuracy(x [][]float64, y []int) float64 {
	if len(x) == 0 {
		return 0
	}
	right := 0
	for i, row := range x {
		if m.Predict(row) == y[i] {
			right++
		}
	}
	return float64(right) / float64(len(x))
}

func (m *Model) standardize(x []float64) []float64 {
	z := make([]float64, len(x))
	for j, v := range x {
		z[j] = (v - m.Mean[j]) / m.Scale[j]
	}
	return z
}

// probabilities writes the softmax of the scores of standardized row z into p.
func (m *Model) probabilities(z, p []float64) {
	maxScore := math.Inf(-1)
	for c, w := range m.Weights {
		s := m.Bias[c]
		for j, v := range z {
			s += w[j] * v
		}
		p[c] = s
		maxScore = max(maxScore, s)
	}
	sum := 0.0
	for c := range p {
		p[c] = math.Exp(p[c] - maxScore) // shifted by the largest score: no overflow
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
