package main

import "testing"

func TestGraphMermaid(t *testing.T) {
	want := `flowchart TD
    s_each["each<br/>exec"]
    s_items["items<br/>http GET"]
    s_login["login<br/>http POST"]
    s_items --> s_each
    s_login --> s_items
`
	checkRun(t, "", []string{"graph", validFlow}, exitOK, want, "")
	checkRun(t, "", []string{"graph", validFlow, "--format", "mermaid"}, exitOK, want, "")
}

func TestGraphDot(t *testing.T) {
	want := `digraph flow {
    rankdir=TB;
    node [shape=box];
    "each" [label="each\nexec"];
    "items" [label="items\nhttp GET"];
    "login" [label="login\nhttp POST"];
    "items" -> "each";
    "login" -> "items";
}
`
	checkRun(t, "", []string{"graph", "--format", "dot", validFlow}, exitOK, want, "")
}

func TestGraphStdin(t *testing.T) {
	checkRun(t, "steps:\n  a: {exec: {command: [true]}}\n", []string{"graph", "-", "--format=dot"}, exitOK,
		"digraph flow {\n    rankdir=TB;\n    node [shape=box];\n    \"a\" [label=\"a\\nexec\"];\n}\n", "")
}

// A bad --format is a usage error naming the formats, found before the
// file is read.
func TestGraphBadFormat(t *testing.T) {
	checkRun(t, "", []string{"graph", validFlow, "--format", "svg"}, exitUsage, "", "gather: --format \"svg\": want mermaid or dot\n")
	checkRun(t, "", []string{"graph", "nope.yaml", "--format", "png"}, exitUsage, "", "gather: --format \"png\": want mermaid or dot\n")
}

// An invalid flow: the errors of gather check, nothing on standard output.
func TestGraphInvalid(t *testing.T) {
	checkRun(t, "", []string{"graph", invalidFlow}, exitUsage, "", invalidFlowErrors)
	checkRun(t, "", []string{"graph", "--format", "dot", invalidFlow}, exitUsage, "", invalidFlowErrors)
}
