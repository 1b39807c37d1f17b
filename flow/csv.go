package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/output"
)

// csvMode says what a flow's CSV columns between line and error are.
type csvMode int

const (
	csvSteps  csvMode = iota // the default output: each step's status
	csvKeys                  // the output mapping's keys
	csvOutput                // the output as one value
)

// csvColumns returns the CSV columns of f's results and what they are.
func csvColumns(f *Flow) ([]string, []string, csvMode) {
	cols := []string{"line"}
	var keys []string
	mode := csvOutput
	switch out := f.Output.(type) {
	case nil:
		mode, keys = csvSteps, f.Order
		cols = append(cols, f.Order...)
	case map[string]any:
		mode = csvKeys
		keys = f.OutputKeys        // in the file's order
		if len(keys) != len(out) { // a flow not made by Parse
			keys = nil
			for k := range out {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		}
		for _, k := range keys {
			if k == "line" || k == "error" {
				k = "output." + k
			}
			cols = append(cols, k)
		}
	default:
		cols = append(cols, "output")
	}
	return append(cols, "error"), keys, mode
}

// CSVColumns returns the CSV columns of f's results: line; then the
// output's keys when the output is a mapping (in the file's order; a key
// named line or error as output.line, output.error), the steps' names with the default
// output (each cell the step's status), or output (the whole value) for
// any other output; then error.
func CSVColumns(f *Flow) []string {
	cols, _, _ := csvColumns(f)
	return cols
}

// CSV returns a writer of f's results as CSV rows under CSVColumns(f): it
// takes each result's line as AppendJSON made it (so a job's stored
// results are written as they were streamed). A string is written as its
// text, null as an empty cell, any other value as JSON; the error cell is
// "STEP: KIND: MESSAGE", empty for a run that succeeded. It is an
// output.JSONWriter; its Write, for fetch records, fails.
func CSV(w io.Writer, f *Flow) output.JSONWriter {
	cols, keys, mode := csvColumns(f)
	return &csvWriter{rows: output.NewRows(w, cols), keys: keys, mode: mode, cells: make([]string, len(cols))}
}

type csvWriter struct {
	rows  *output.Rows
	keys  []string // the output's keys or the steps' names, by column
	mode  csvMode
	cells []string
}

// resultLine is a result's line as AppendJSON writes it.
type resultLine struct {
	Output any            `json:"output"`
	Steps  map[string]any `json:"steps"`
	Error  *Failure       `json:"error"`
}

func (c *csvWriter) WriteJSON(line int, record []byte) error {
	var r resultLine
	d := json.NewDecoder(bytes.NewReader(record))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return fmt.Errorf("line %d: a result that is not a flow's: %v", line, err)
	}
	c.cells[0] = ""
	if line > 0 {
		c.cells[0] = strconv.Itoa(line)
	}
	switch c.mode {
	case csvOutput:
		c.cells[1] = output.CellText(r.Output)
	case csvKeys:
		out, _ := r.Output.(map[string]any)
		for i, k := range c.keys {
			c.cells[1+i] = output.CellText(out[k])
		}
	case csvSteps:
		for i, name := range c.keys {
			var status any
			if s, ok := r.Steps[name].(map[string]any); ok {
				status = s["status"]
			}
			c.cells[1+i] = output.CellText(status)
		}
	}
	c.cells[len(c.cells)-1] = ""
	if r.Error != nil {
		c.cells[len(c.cells)-1] = r.Error.Step + ": " + r.Error.Kind + ": " + r.Error.Message
	}
	return c.rows.WriteRow(line, c.cells)
}

func (c *csvWriter) Write(fetch.Record) error {
	return errors.New("flow.CSV writes flow results, not fetch records")
}

func (c *csvWriter) Flush() error { return c.rows.Flush() }
