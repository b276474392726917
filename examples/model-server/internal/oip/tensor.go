package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// The JSON objects of the Open Inference Protocol's HTTP/REST API (KServe "V2"):
// https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol

// metadataTensor is $metadata_tensor: a tensor's name, datatype and shape (-1: any size).
type metadataTensor struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// modelMetadata is $metadata_model_response.
type modelMetadata struct {
	Name       string           `json:"name"`
	Versions   []string         `json:"versions,omitempty"`
	Platform   string           `json:"platform"`
	Inputs     []metadataTensor `json:"inputs"`
	Outputs    []metadataTensor `json:"outputs"`
	Parameters map[string]any   `json:"parameters,omitempty"`
}

// serverMetadata is $metadata_server_response.
type serverMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// inferenceRequest is $inference_request.
type inferenceRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Inputs     []requestInput  `json:"inputs"`
	Outputs    []requestOutput `json:"outputs,omitempty"`
}

// requestInput is $request_input. Data is row-major, flat or nested as the shape.
type requestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// requestOutput is $request_output: an output the client wants.
type requestOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// inferenceResponse is $inference_response.
type inferenceResponse struct {
	ModelName    string           `json:"model_name"`
	ModelVersion string           `json:"model_version,omitempty"`
	ID           string           `json:"id,omitempty"`
	Outputs      []responseOutput `json:"outputs"`
}

// responseOutput is $response_output.
type responseOutput struct {
	Name     string  `json:"name"`
	Shape    []int64 `json:"shape"`
	Datatype string  `json:"datatype"`
	Data     any     `json:"data"`
}

// errorResponse is the error object of every endpoint: {"error": "..."}.
type errorResponse struct {
	Error string `json:"error"`
}

// badRequest is an error in what the client sent (answered with 400).
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// decodeRows reads the request's one input tensor as rows of width features: datatype
// FP32 or FP64, shape [N, width] with 1 <= N <= maxRows, and N*width numbers. FP32 values
// are rounded to float32, as a server reading binary FP32 would see them.
func decodeRows(req *inferenceRequest, inputName string, width, maxRows int) (rows [][]float64, datatype string, err error) {
	if len(req.Inputs) != 1 {
		return nil, "", badRequestf("expected 1 input tensor, got %d", len(req.Inputs))
	}
	in := req.Inputs[0]
	if in.Name != inputName {
		return nil, "", badRequestf("unexpected input tensor %q, the model's input is %q", in.Name, inputName)
	}
	if in.Datatype != typeFP32 && in.Datatype != typeFP64 {
		return nil, "", badRequestf("input %q has datatype %q, want FP32 or FP64", in.Name, in.Datatype)
	}
	if len(in.Shape) != 2 || in.Shape[1] != int64(width) || in.Shape[0] < 1 {
		return nil, "", badRequestf("input %q has shape %v, want [N, %d] with N >= 1", in.Name, in.Shape, width)
	}
	if in.Shape[0] > int64(maxRows) {
		return nil, "", badRequestf("input %q has %d rows, at most %d are allowed in one request", in.Name, in.Shape[0], maxRows)
	}
	if len(in.Data) == 0 {
		return nil, "", badRequestf("input %q has no data", in.Name)
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(in.Data))
	if err := dec.Decode(&raw); err != nil {
		return nil, "", badRequestf("input %q: data is not JSON numbers: %v", in.Name, err)
	}
	values := make([]float64, 0, in.Shape[0]*in.Shape[1])
	if err := flatten(raw, &values, int(in.Shape[0]*in.Shape[1])); err != nil {
		return nil, "", badRequestf("input %q: %v", in.Name, err)
	}
	if int64(len(values)) != in.Shape[0]*in.Shape[1] {
		return nil, "", badRequestf("input %q has %d values, its shape %v needs %d", in.Name, len(values), in.Shape, in.Shape[0]*in.Shape[1])
	}
	rows = make([][]float64, in.Shape[0])
	for i := range rows {
		rows[i] = values[i*width : (i+1)*width]
		for j, v := range rows[i] {
			if in.Datatype == typeFP32 {
				v = float64(float32(v))
				rows[i][j] = v
			}
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, "", badRequestf("input %q: value %d of row %d does not fit %s", in.Name, j, i, in.Datatype)
			}
		}
	}
	return rows, in.Datatype, nil
}

// flatten appends the numbers of a (possibly nested) JSON array to out, refusing anything
// else and stopping past limit values.
func flatten(v any, out *[]float64, limit int) error {
	switch t := v.(type) {
	case float64:
		if len(*out) >= limit {
			return errors.New("more values than the shape holds")
		}
		*out = append(*out, t)
	case []any:
		for _, e := range t {
			if err := flatten(e, out, limit); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("data holds %T, want numbers", v)
	}
	return nil
}
