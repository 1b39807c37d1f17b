package output

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gogather/gather/fetch"
)

func TestCSVInputColumns(t *testing.T) {
	var b bytes.Buffer
	w, err := CSV(&b, append([]string{"line"}, InputFields([]string{"s", "n", "o", "null", "missing"})...))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(fetch.Record{Line: 3, Input: map[string]any{"s": "a,\"b\"", "n": json.Number("12345678901234567890"), "o": map[string]any{"x": []any{1.5, true}}, "null": nil}})
	w.Flush()
	want := "line,input.s,input.n,input.o,input.null,input.missing\n3,\"a,\"\"b\"\"\",12345678901234567890,\"{\"\"x\"\":[1.5,true]}\",,\n"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
	if _, err := CSV(&b, []string{"input."}); err == nil {
		t.Fatal(`"input." with no name was accepted`)
	}
}
