package flow_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/flow"
)

// FuzzRunExpressions runs a flow whose if, for_each and output come from
// the fuzzer, over any input, with no network and no process (the one
// step is an exec that its if keeps from running, or that an empty list
// gives nothing to run): nothing panics, and every result's line is one
// valid JSON object.
func FuzzRunExpressions(f *testing.F) {
	f.Add(`${{ .input.a }}`, `${{ [] }}`, `${{ {x: .input, s: .steps.s} }}`, `{"a": false}`)
	f.Add(`${{ false }}`, `${{ .input }}`, `n ${{ .input | length }}`, `[1,2]`)
	f.Add(`true`, `${{ [] }}`, `${{ .steps.s | map(.stdout) }}`, `"x"`)
	f.Add(`${{ error("no") }}`, `${{ range(3) }}`, `${{ .input.deep.er }}`, `{"deep": 1}`)
	f.Fuzz(func(t *testing.T, cond, each, output, input string) {
		src := "steps:\n  s:\n    if: " + strconv.Quote(cond) + "\n    for_each: " + strconv.Quote(each) +
			"\n    exec: {command: [/nonexistent/never-run]}\noutput: " + strconv.Quote(output) + "\n"
		fl, err := flow.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			return
		}
		e, err := flow.NewEngine(fl, flow.Config{Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		var in any
		d := json.NewDecoder(strings.NewReader(input))
		d.UseNumber()
		if d.Decode(&in) != nil {
			in = input
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r := e.Run(ctx, in)
		b, _ := r.AppendJSON(nil, 1)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("line %s: %v", b, err)
		}
		if s := r.Steps[0]; s.Status == flow.StatusOK && s.Value != nil {
			if list, ok := s.Value.([]any); !ok || len(list) != 0 {
				t.Fatalf("the step ran a process that cannot exist and is ok: %s", b)
			}
		}
	})
}
