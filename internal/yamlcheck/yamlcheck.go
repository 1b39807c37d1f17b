// Package yamlcheck reads the values of a YAML file decoded as nodes, each
// error reported at its node's place (line and column): the shared ground
// of the flow and gateway parsers.
package yamlcheck

import (
	"slices"
	"strconv"
	"time"

	"github.com/gogather/gather/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// A Checker reads nodes, reporting what is wrong through Errorf.
type Checker struct {
	Errorf func(n *yaml.Node, format string, args ...any)
}

// Deref follows an alias (at most 100 deep).
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// KindName names a node's kind for a message: a mapping, a list, null,
// a scalar.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "an alias"
}

// Mapping checks that n is a mapping with known keys (nil: any) and
// returns its entries in order, aliases followed; a key that is not a
// scalar, a duplicate and an unknown key (with a "did you mean") are
// reported and dropped.
func (c Checker) Mapping(n *yaml.Node, what string, known []string) (keys []*yaml.Node, vals []*yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode {
		c.Errorf(n, "%s must be a mapping, not %s", what, KindName(n))
		return nil, nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), Deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			c.Errorf(k, "a key in %s must be a scalar, not %s", what, KindName(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			c.Errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, line)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			c.Errorf(k, "unknown key %q in %s%s", k.Value, what, suggest.Closest(k.Value, known))
			continue
		}
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return keys, vals, true
}

// Scalar returns n's value when it is a non-null scalar.
func (c Checker) Scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.Errorf(n, "%s must be a string, not %s", what, KindName(n))
		return "", false
	}
	return n.Value, true
}

// Integer returns n's whole number, at least least.
func (c Checker) Integer(n *yaml.Node, what string, least int) int {
	s, ok := c.Scalar(n, what)
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(s)
	if err != nil || n.Tag != "!!int" || i < least {
		c.Errorf(n, "%s must be a whole number >= %d, not %q", what, least, s)
		return 0
	}
	return i
}

// Duration returns n's positive duration (10s, 1m30s, 500ms).
func (c Checker) Duration(n *yaml.Node, what string) time.Duration {
	s, ok := c.Scalar(n, what)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		c.Errorf(n, "%s: invalid duration %q (write e.g. 10s, 1m30s, 500ms)", what, s)
		return 0
	}
	if d <= 0 {
		c.Errorf(n, "%s: duration %q must be positive", what, s)
		return 0
	}
	return d
}

// WalkStrings calls f with every string in a value decoded from YAML
// (strings, lists, and mappings with keys of any type).
func WalkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, x := range v {
			WalkStrings(x, f)
		}
	case map[string]any:
		for _, x := range v {
			WalkStrings(x, f)
		}
	case map[any]any:
		for _, x := range v {
			WalkStrings(x, f)
		}
	}
}
