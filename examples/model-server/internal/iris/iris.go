// Package iris holds Fisher's Iris data set and the classifier trained on it that the
// model server serves.
//
// iris.csv is the table of R. A. Fisher, "The use of multiple measurements in taxonomic
// problems", Annals of Eugenics 7(2), 179-188 (1936), measurements by Edgar Anderson:
// 150 flowers, 50 of each of Iris setosa, versicolor and virginica, four measurements in
// centimetres. The UCI Machine Learning Repository distributes it as "Iris"
// (https://archive.ics.uci.edu/dataset/53/iris, doi:10.24432/C56C76, CC BY 4.0); its
// iris.data differs from Fisher's table in rows 35 and 38, as UCI's own notes say, and this
// copy has Fisher's values there (as R's datasets::iris and scikit-learn's copy do).
//
// model.json is the trained model, written by `go generate` (the server's -train mode):
//
//go:generate go run ../.. -train -model-out model.json
package iris

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/inferenceops/inference-operator/examples/model-server/internal/logreg"
)

//go:embed iris.csv
var csvData []byte

//go:embed model.json
var modelJSON []byte

// Features and Classes name the columns and the species, in the order the model uses.
var (
	Features = []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
	Classes  = []string{"setosa", "versicolor", "virginica"}
)

// TrainOptions are the hyperparameters the shipped model was trained with.
var TrainOptions = logreg.TrainOptions{Epochs: 5000, LearningRate: 0.5, L2: 0.001}

// Sample is one flower: its four measurements and its species' index in Classes.
type Sample struct {
	Features []float64
	Class    int
}

// Load parses the embedded data set.
func Load() ([]Sample, error) {
	records, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading iris.csv: %w", err)
	}
	if len(records) < 1 || len(records[0]) != len(Features)+1 {
		return nil, fmt.Errorf("iris.csv has no header of %d columns", len(Features)+1)
	}
	classIndex := map[string]int{}
	for i, c := range Classes {
		classIndex[c] = i
	}
	var samples []Sample
	for n, rec := range records[1:] {
		s := Sample{Features: make([]float64, len(Features))}
		for j := range Features {
			if s.Features[j], err = strconv.ParseFloat(rec[j], 64); err != nil {
				return nil, fmt.Errorf("iris.csv row %d: %w", n+1, err)
			}
		}
		c, ok := classIndex[rec[len(Features)]]
		if !ok {
			return nil, fmt.Errorf("iris.csv row %d: unknown species %q", n+1, rec[len(Features)])
		}
		s.Class = c
		samples = append(samples, s)
	}
	return samples, nil
}

// Split holds out every fifth flower of each species (its 5th, 10th, ... 50th): 10 of each,
// 30 in all, a fixed stratified split. The other 120 are for training.
func Split(samples []Sample) (train, heldOut []Sample) {
	seen := map[int]int{}
	for _, s := range samples {
		seen[s.Class]++
		if seen[s.Class]%5 == 0 {
			heldOut = append(heldOut, s)
		} else {
			train = append(train, s)
		}
	}
	return train, heldOut
}

// Columns turns samples into the rows and labels logreg takes.
func Columns(samples []Sample) ([][]float64, []int) {
	x := make([][]float64, len(samples))
	y := make([]int, len(samples))
	for i, s := range samples {
		x[i], y[i] = s.Features, s.Class
	}
	return x, y
}

// ModelFile is model.json: the classifier and how it was made.
type ModelFile struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Algorithm string `json:"algorithm"`
	Dataset   string `json:"dataset"`
	// DatasetSHA256 is the digest of the iris.csv the model was trained on.
	DatasetSHA256 string              `json:"datasetSHA256"`
	Training      logreg.TrainOptions `json:"training"`
	TrainRows     int                 `json:"trainRows"`
	HeldOutRows   int                 `json:"heldOutRows"`
	TrainAccuracy float64             `json:"trainAccuracy"`
	// HeldOutAccuracy is measured on the 30 rows Split holds out, which training never saw.
	HeldOutAccuracy float64       `json:"heldOutAccuracy"`
	Model           *logreg.Model `json:"model"`
}

// Train trains the classifier on the training rows of the embedded data set and measures it.
func Train() (*ModelFile, error) {
	samples, err := Load()
	if err != nil {
		return nil, err
	}
	train, heldOut := Split(samples)
	x, y := Columns(train)
	m, err := logreg.Train(x, y, Features, Classes, TrainOptions)
	if err != nil {
		return nil, err
	}
	hx, hy := Columns(heldOut)
	return &ModelFile{
		Name:            "iris",
		Version:         "1",
		Algorithm:       "multinomial logistic regression (softmax), standardized features, full-batch gradient descent",
		Dataset:         "Fisher's Iris data (1936), UCI Machine Learning Repository doi:10.24432/C56C76",
		DatasetSHA256:   DatasetSHA256(),
		Training:        TrainOptions,
		TrainRows:       len(train),
		HeldOutRows:     len(heldOut),
		TrainAccuracy:   m.Accuracy(x, y),
		HeldOutAccuracy: m.Accuracy(hx, hy),
		Model:           m,
	}, nil
}

// Shipped parses the embedded model.json and checks it.
func Shipped() (*ModelFile, error) {
	var f ModelFile
	if err := json.Unmarshal(modelJSON, &f); err != nil {
		return nil, fmt.Errorf("parsing model.json: %w", err)
	}
	if f.Model == nil {
		return nil, fmt.Errorf("model.json holds no model")
	}
	if err := f.Model.Validate(); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	if len(f.Model.Features) != len(Features) || len(f.Model.Classes) != len(Classes) {
		return nil, fmt.Errorf("model.json has %d features and %d classes, want %d and %d",
			len(f.Model.Features), len(f.Model.Classes), len(Features), len(Classes))
	}
	return &f, nil
}

// DatasetSHA256 is the hex SHA-256 of the embedded iris.csv.
func DatasetSHA256() string {
	sum := sha256.Sum256(csvData)
	return hex.EncodeToString(sum[:])
}
