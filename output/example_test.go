package output_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/output"
)

// Every record is one JSON object on its own line, with every field. A
// writer buffers records: call Flush at the end (and whenever what was
// written so far should reach the output).
func ExampleJSONL() {
	w := output.JSONL(os.Stdout)
	w.Write(fetch.Record{Line: 1, URL: "http://a.example/", Method: "GET", Status: 200, Attempts: 1, MS: 12.5, Bytes: 5})
	w.Write(fetch.Record{Line: 2, URL: "http://b.example/", Method: "GET", Attempts: 3, MS: 3000,
		Error: &fetch.Error{Kind: fetch.KindConnect, Message: "connection refused"}})
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"line":1,"url":"http://a.example/","method":"GET","status":200,"attempts":1,"ms":12.5,"bytes":5}
	// {"line":2,"url":"http://b.example/","method":"GET","status":0,"error":{"kind":"connect","message":"connection refused"},"attempts":3,"ms":3000,"bytes":0}
}

// CSV writes the chosen columns: here the line, the status, the body and
// an input field kept with the record (gather fetch --keep id), whose
// column is input.id. A body with commas, quotes or newlines is quoted, so
// it reads back as one field.
func ExampleCSV() {
	fields := append([]string{"line", "status", "body"}, output.InputFields([]string{"id"})...)
	w, err := output.CSV(os.Stdout, fields)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := json.Marshal("a, b\nsaid \"hi\"") // a body kept as text is a JSON string
	w.Write(fetch.Record{Line: 2, Status: 200, Body: body, Input: map[string]any{"id": "a-17"}})
	w.Write(fetch.Record{Line: 3, Status: 404, Input: map[string]any{"id": json.Number("18")}})
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// line,status,body,input.id
	// 2,200,"a, b
	// said ""hi""",a-17
	// 3,404,,18
}

// With no fields chosen, CSV writes DefaultCSVFields. An output without
// records still gets its header row, written by Flush.
func ExampleCSV_defaultFields() {
	w, _ := output.CSV(os.Stdout, nil)
	w.Flush()
	// Output:
	// line,url,status,error_kind,error,attempts,ms,bytes,sha256
}

// failAfter accepts n bytes, then fails as a full disk would.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	return n, errors.New("no space left on device")
}

// When a write fails, the error is a *WriteError saying what the output
// holds. This writer is no file, so the record cut in the middle cannot
// be cut back, and the error says so. Every later call returns the same
// error.
func ExampleWriteError() {
	w := output.JSONL(&failAfter{n: 100})
	w.Write(fetch.Record{Line: 1, URL: "http://a.example/", Status: 200})
	w.Write(fetch.Record{Line: 2, URL: "http://b.example/", Status: 200})
	err := w.Flush()

	var we *output.WriteError
	if errors.As(err, &we) {
		fmt.Printf("records=%d last=%d cut=%d\n", we.Records, we.LastLine, we.CutLine)
	}
	fmt.Println(err)
	fmt.Println(w.Write(fetch.Record{Line: 3}) == err)
	// Output:
	// records=1 last=1 cut=2
	// no space left on device; the output ends in the middle of the record of input line 2, after 1 whole record (the last of input line 1)
	// true
}
