// Package examples holds example flows for gather run, each a YAML file
// with a line in README.md, and the test that runs every one of them with
// the built gather command against the local upstream's demo API
// (internal/upstream, paths under /demo/). It has no code of its own.
package examples
