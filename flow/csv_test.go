package flow_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gogather/gather/flow"
)

func TestCSVColumnsFollowTheOutput(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"output: {b: x, a: y, line: z}", "line,a,b,output.line,error"},
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
	want := "line,list,n,none,text,error\n" +
		"1,\"[1,\"\"a\"\"]\",1.5,,\"hi\n\",\n" +
		"2,,,,,\"bad: exit_status: \"\"false\"\" exited with code 1\"\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
