package flow

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// kind describes a step for a graph's label: "http GET" or "exec".
func (s *Step) kind() string {
	switch {
	case s.HTTP != nil:
		return "http " + s.HTTP.Method
	case s.Exec != nil:
		return "exec"
	}
	return ""
}

func (f *Flow) names() []string {
	names := make([]string, 0, len(f.Steps))
	for name := range f.Steps {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Mermaid writes the flow's graph as a Mermaid flowchart, an arrow from
// each step to the steps that need it. Nodes and edges are sorted by name,
// so the output is the same on every call.
func (f *Flow) Mermaid(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, "flowchart TD")
	names := f.names()
	for _, name := range names {
		s := f.Steps[name]
		// Ids get a prefix: a step may be called end, a Mermaid keyword.
		fmt.Fprintf(b, "    s_%s[\"%s<br/>%s\"]\n", name, name, mermaidText(s.kind()))
	}
	for _, name := range names {
		for _, need := range f.Steps[name].Needs {
			fmt.Fprintf(b, "    s_%s --> s_%s\n", need, name)
		}
	}
	return b.Flush()
}

// mermaidText escapes a label for Mermaid's quoted text.
func mermaidText(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			out = append(out, "#quot;"...)
		case '<':
			out = append(out, "#lt;"...)
		case '>':
			out = append(out, "#gt;"...)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// Dot writes the flow's graph in Graphviz's dot language, an arrow from
// each step to the steps that need it, sorted by name.
func (f *Flow) Dot(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, "digraph flow {")
	fmt.Fprintln(b, "    rankdir=TB;")
	fmt.Fprintln(b, "    node [shape=box];")
	names := f.names()
	for _, name := range names {
		fmt.Fprintf(b, "    \"%s\" [label=\"%s\\n%s\"];\n", name, name, dotText(f.Steps[name].kind()))
	}
	for _, name := range names {
		for _, need := range f.Steps[name].Needs {
			fmt.Fprintf(b, "    \"%s\" -> \"%s\";\n", need, name)
		}
	}
	fmt.Fprintln(b, "}")
	return b.Flush()
}

// dotText escapes a label for a dot quoted string. Step names need no
// escaping: they are letters, digits and _.
func dotText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
