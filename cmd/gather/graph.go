package main

import (
	"github.com/spf13/cobra"
)

type graphFlags struct {
	format string
}

func newGraphCommand() *cobra.Command {
	var f graphFlags
	cmd := &cobra.Command{
		Use:   "graph FLOW.yaml|-",
		Short: "Print a flow's graph of steps as Mermaid or Graphviz dot",
		Long: `Graph prints the graph of a flow file on standard output: a node per step
(its name and kind, as "http GET" or "exec") and an arrow from each step
to the steps that need it, sorted by name so the output is stable. The
default format is a Mermaid flowchart (GitHub renders it in a ` + "```mermaid" + `
block); --format dot writes Graphviz's language (gather graph f.yaml
--format dot | dot -Tsvg > f.svg). - reads the flow from standard input.

The flow is checked first, as by gather check: an invalid flow prints its
errors on standard error and exits 2, and nothing on standard output.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGraph(args[0], &f)
		},
	}
	cmd.Flags().StringVar(&f.format, "format", "mermaid", "mermaid or dot")
	return cmd
}

func runGraph(path string, f *graphFlags) error {
	if f.format != "mermaid" && f.format != "dot" {
		return usageError("--format %q: want mermaid or dot", f.format)
	}
	fl, err := readFlow(path)
	if err != nil {
		return err
	}
	write := fl.Mermaid
	if f.format == "dot" {
		write = fl.Dot
	}
	if err := write(stdio.out); err != nil {
		return writeError("graph", err)
	}
	return nil
}
