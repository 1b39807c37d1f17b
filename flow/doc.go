// Package flow reads flow files: named steps (an HTTP request or a process
// to run) joined by "needs" edges into a directed acyclic graph, and an
// optional output built from the steps' results. This package parses and
// validates a flow; it runs nothing.
//
//	steps:
//	  login:
//	    http:
//	      method: POST
//	      url: https://api.example.com/login
//	      json: {user: "${{ .input.user }}"}
//	  items:
//	    http:
//	      url: https://api.example.com/items?token=${{ .steps.login.body.token }}
//	  each:
//	    for_each: ${{ .steps.items.body.items }}
//	    concurrency: 4
//	    exec:
//	      command: [./process, "${{ .item.id }}"]
//	output: ${{ .steps.items.body }}
//
// # Positions
//
// Parse decodes the file into go.yaml.in/yaml/v3's node tree, not into Go
// structs, and walks that tree itself: every node keeps its line and column,
// so every error names the exact place (FILE:LINE:COL) of the key, value or
// list item at fault. An error inside an expression points at the offending
// token when the string is written on one line as it is (plain, or quoted
// without escapes: Parse checks the file's text), otherwise at the start of
// the string. Columns count characters, as yaml.v3's do. A value shared
// through a YAML alias is checked at each use, and its errors reported once.
//
// A YAML syntax error stops parsing: it is the one error reported, at the
// line yaml.v3 gives (column 1); for an unclosed collection that is the
// line where the collection starts.
//
// Otherwise Parse reports all the errors it finds, sorted by position, as an Errors
// list of *Error, not just the first: a user fixes a flow in one pass.
//
// # Why the graph is checked first
//
// A flow may POST, delete or charge: running half of it and then failing on
// a typo in its last step can leave work done that cannot be undone. So a
// flow is refused before anything runs when a step needs (or refers to) a
// step that does not exist, when the needs form a cycle (which would
// deadlock: each step waiting for another), when an expression does not
// compile, or when any key, type or duration is wrong. A valid flow has a
// topological order (Flow.Order), in which every step comes after all it
// needs. Each cycle is reported once, at its first step by name, as the
// shortest cycle from that step back to itself ("needs cycle: a -> b -> c
// -> a": a needs b, b needs c, c needs a).
//
// # Implied needs
//
// Expressions are ${{ jq }} templates (package template). A step whose
// expressions (in http, exec, if, for_each, assert) mention .steps.NAME
// needs NAME, as if NAME were listed in its needs. The detection is
// textual: it looks for ".steps." followed by a name in the text of every
// expression (from the first "${{" of a string to its end). It catches
// .steps.a.body and .steps.a | ...; it does not catch a dynamic access such
// as .steps["a"], .steps[$name] or .steps | .a, nor a reference built at
// run time; such steps must be listed in needs by hand. It may see a
// reference inside a jq string literal (".steps.a" written as text), which
// at worst adds an edge. Step names are therefore restricted to letters,
// digits and _ (not starting with a digit), the names jq can write after a
// dot. References in output are checked (the step must exist) but imply
// nothing: output is built once every step is done.
package flow
