package flow

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// project is what decodeJSONKeys must give: decodeJSON's value, and of an
// object only the keys asked for.
func project(b []byte, keys []string) any {
	v := decodeJSON(b)
	m, ok := v.(map[string]any)
	if !ok || keys == nil {
		return v
	}
	out := map[string]any{}
	for _, k := range keys {
		if x, ok := m[k]; ok {
			out[k] = x
		}
	}
	return out
}

var bodyKeysCases = []string{
	`{"method":"GET","path":"/a/42","query":{"echo":["1"]},"n":12345678901234567890,"big":1e400,"ok":true,"no":false,"none":null}`,
	` { "path" : "/x" , "other" : [ 1 , { "path" : "inner" } ] } `,
	`{"path":"first","path":"second"}`,
	`{"pa\u0074h":"escaped key","path2":"x"}`,
	`{"path":"caf\u00e9 \"quoted\" \\ back"}`,
	`{"path":"café"}`,
	"{\"path\":\"bad \xff utf-8\"}",
	"{\"pa\xffth\":\"bad key\"}",
	`{"path":-0.5e-3,"n":0}`,
	`{"path":{"deep":[1,2,{"x":"}]"}]},"after":"]}"}`,
	`{"path":"a\"}b","x":1}`,
	`{}`,
	`[{"path":"in a list"}]`,
	`"path"`,
	`42`,
	`null`,
	`{"path":"x"} trailing`,
	`{"path":"x"}{"path":"y"}`,
	`{"path":}`,
	`{"path":"x"`,
	`   `,
	`{"path":"x",}`,
	`{"path":01}`, `{"path":-}`, `{"path":1.}`, `{"path":1e}`, `{"path":1e+}`, `{"path":-0.0E+00}`, `{"path":2.5e-3x}`,
	`{"path":tru}`, `{"path":truex}`, `{"path":nul}`, `{"path":[1,]}`, `{"path":[,1]}`, `{"path":{"a"}}`, `{"path":{"a":}}`,
	"{\"path\":\"tab\tinside\"}", `{"path":"\x"}`, `{"path":"\u12g4"}`, `{"path":"\u12"}`, `{"path":"\ud800"}`, "{\"path\":\"del\x7f\"}",
	`{"path":"x" "y"}`, `{"path" "x"}`, `{"path":"x"`, `{"path":"x`, `{"pa`, `{`, `{ }`, ` {"path" : [ ] , "n" : { } } `,
	strings.Repeat("[", 9999) + strings.Repeat("]", 9999),
	`{"path":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"path":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"other":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat("}", 10000) + `,"path":"x"}`,
}

func TestDecodeJSONKeysIsDecodeJSONOfTheKeys(t *testing.T) {
	for _, keys := range [][]string{nil, {"path"}, {"n", "path"}, {"nothing"}, {"pa\xffth", "path"}} {
		for _, c := range bodyKeysCases {
			got, want := decodeJSONKeys([]byte(c), keys), project([]byte(c), keys)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("keys %q, body %.80q: got %#.80v, want %#.80v", keys, c, got, want)
			}
		}
	}
	// Numbers are kept as they were written.
	got := decodeJSONKeys([]byte(`{"n":1e400,"m":12345678901234567890}`), []string{"m", "n"})
	if want := map[string]any{"n": json.Number("1e400"), "m": json.Number("12345678901234567890")}; !reflect.DeepEqual(got, want) {
		t.Errorf("numbers: got %#v, want %#v", got, want)
	}
}

func FuzzDecodeJSONKeys(f *testing.F) {
	for _, c := range bodyKeysCases {
		if len(c) < 1000 {
			f.Add(c, "path")
		}
	}
	f.Fuzz(func(t *testing.T, body, key string) {
		keys := []string{key}
		got, want := decodeJSONKeys([]byte(body), keys), project([]byte(body), keys)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("key %q, body %q: got %#v, want %#v", key, body, got, want)
		}
	})
}
