package flow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gogather/gather/flow"
	"github.com/itchyny/gojq"
)

func TestCSVColumnsFollowTheOutput(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"output: {b: x, a: y, line: z}", "line,b,a,output.line,error"},
		{"output: ${{ .steps.s }}", "line,output,error"},
		{"", "line,s,error"},
	} {
		f, err := flow.Parse("c.yaml", []byte("steps:\n  s: {exec: {command: [\"true\"]}}\n"+c.src+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		w := flow.CSV(&b, f)
		w.Flush()
		if got := b.String(); got != c.want+"\n" {
			t.Errorf("%q: header %q, want %q", c.src, got, c.want)
		}
	}
}

func TestCSVWritesValuesAndTheError(t *testing.T) {
	f, err := flow.Parse("c.yaml", []byte(`
steps:
  ok: {exec: {command: [echo, hi]}}
  bad: {exec: {command: ["false"]}, if: "${{ .input.fail }}"}
output: {text: "${{ .steps.ok.stdout }}", n: "${{ .input.n }}", none: "${{ null }}", list: "${{ [1, \"a\"] }}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.NewEngine(f, flow.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := flow.CSV(&b, f)
	for i, in := range []map[string]any{{"n": 1.5, "fail": false}, {"n": 2, "fail": true}} {
		line, _ := e.Run(context.Background(), in).AppendJSON(nil, i+1)
		if err := w.WriteJSON(i+1, line); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	want := "line,text,n,none,list,error\n" +
		"1,\"hi\n\",1.5,,\"[1,\"\"a\"\"]\",\n" +
		"2,,,,,\"bad: exit_status: \"\"false\"\" exited with code 1\"\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The summary of a step written for each record is the one DefaultOutput
// gives, encoded as jq encodes it.
func TestStepSummaryLineMatchesDefaultOutput(t *testing.T) {
	f, err := flow.Parse("s.yaml", []byte(`
steps:
  ok: {exec: {command: [echo, "<&>"]}}
  bad: {optional: true, exec: {command: [sh, -c, "echo 'x\"<y>' >&2; exit 2"]}}
  skip: {if: "${{ false }}", exec: {command: ["true"]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := flow.NewEngine(f, flow.Config{})
	r := e.Run(context.Background(), nil)
	line, _ := r.AppendJSON(nil, 0)
	var got struct{ Output, Steps any }
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Output, got.Steps) {
		t.Errorf("steps %v\noutput %v", got.Steps, got.Output)
	}
	want, _ := gojq.Marshal(flow.DefaultOutput(r.Steps)["bad"])
	if !strings.Contains(string(line), `"bad":`+string(want)) {
		t.Errorf("line %s\nhas no %s", line, want)
	}
}
