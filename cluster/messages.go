package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
)

// work is a work message: one input, made into its request by the
// coordinator (so that its host, and so its partition, is known there).
type work struct {
	Epoch  int64          `json:"epoch"` // the coordinator run's (Spec.Epoch)
	Line   int            `json:"line"`
	Method string         `json:"method"`
	URL    string         `json:"url"`
	Header http.Header    `json:"header,omitempty"`
	Body   []byte         `json:"body,omitempty"`
	Keep   map[string]any `json:"keep,omitempty"`
}

func workOf(epoch int64, req fetch.Request) work {
	return work{Epoch: epoch, Line: req.Line, Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body, Keep: req.Keep}
}

// request returns the work's request, numbered seq rather than its line:
// a worker tells its inputs apart by seq (one line may be delivered twice).
func (w work) request(seq int) fetch.Request {
	return fetch.Request{Line: seq, Method: w.Method, URL: w.URL, Header: w.Header, Body: w.Body, Keep: w.Keep}
}

func decodeWork(b []byte) (work, error) {
	var w work
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // kept input values stay as written
	if err := d.Decode(&w); err != nil {
		return w, fmt.Errorf("a work message: %w", err)
	}
	if w.Line < 1 {
		return w, fmt.Errorf("a work message: line %d", w.Line)
	}
	return w, nil
}

// result is a result message: a job.Result's fields, the record as JSON,
// and the worker that made it.
type result struct {
	Epoch    int64           `json:"epoch"` // the work's
	Line     int             `json:"line"`
	OK       bool            `json:"ok"`
	Kind     string          `json:"kind,omitempty"`
	Host     string          `json:"host,omitempty"`
	Status   int             `json:"status,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	MS       float64         `json:"ms"`
	Bytes    int64           `json:"bytes,omitempty"`
	Worker   string          `json:"worker"`
	Record   json.RawMessage `json:"record"`
}

func resultOf(epoch int64, r job.Result, worker string) result {
	return result{Epoch: epoch, Line: r.Line, OK: r.OK, Kind: r.Kind, Host: r.Host, Status: r.Status,
		Attempts: r.Attempts, MS: r.MS, Bytes: r.Bytes, Worker: worker, Record: r.Record}
}

func (r result) jobResult() job.Result {
	return job.Result{Line: r.Line, OK: r.OK, Kind: r.Kind, Host: r.Host, Status: r.Status,
		Attempts: r.Attempts, MS: r.MS, Bytes: r.Bytes, Record: r.Record}
}

func decodeResult(b []byte) (result, error) {
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("a result message: %w", err)
	}
	if r.Line < 1 || len(r.Record) == 0 {
		return r, fmt.Errorf("a result message: line %d, %d bytes of record", r.Line, len(r.Record))
	}
	return r, nil
}
