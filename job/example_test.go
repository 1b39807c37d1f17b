package job_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gogather/gather/input"
	"github.com/gogather/gather/job"
)

// A run over an input, interrupted after two inputs, then resumed: the
// second run skips what the first stored. (The "fetch" here makes up
// results; gather fetch hands the engine's records to Store.)
func Example() {
	dir, _ := os.MkdirTemp("", "job-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "crawl.db")
	urls := "http://example.com/1\nhttp://example.com/2\nhttp://example.com/3\n"
	settings := []job.Setting{{Key: "method", Name: "--method", Value: "GET"}}
	ctx := context.Background()

	run := func(limit int) {
		j, err := job.Open(ctx, path, settings, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		in, err := j.Input(ctx, strings.NewReader(urls), job.InputOptions{})
		if err != nil {
			fmt.Println(err)
			j.Close()
			return
		}
		j.Start(ctx, nil)
		done, ended := 0, true
		for l := range input.LinesFrom(in.Reader(), in.Start) {
			if !in.Take(l.Num, l.End) {
				continue // stored by an earlier run
			}
			if done == limit {
				ended = false // interrupted
				break
			}
			fmt.Println("fetching line", l.Num)
			j.Store(job.Result{Line: l.Num, OK: true, Host: "example.com", Status: 200, Attempts: 1,
				Record: fmt.Appendf(nil, `{"line":%d,"url":%q,"status":200}`, l.Num, l.Text)})
			done++
		}
		if ended {
			in.Ended()
		}
		j.Close()
		p, _ := j.Progress(ctx)
		fmt.Printf("stored %d of %d\n", p.Stored, p.Total)
	}
	run(2)  // interrupted after two inputs
	run(-1) // resumed
	// Output:
	// fetching line 1
	// fetching line 2
	// stored 2 of -1
	// fetching line 3
	// stored 3 of 3
}

// Reading a job: its progress, then its failed results in input order,
// each with its record as the run stored it.
func ExampleOpenReader() {
	dir, _ := os.MkdirTemp("", "job-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "crawl.db")
	ctx := context.Background()

	// A run storing three results, one failed.
	j, err := job.Open(ctx, path, []job.Setting{{Key: "method", Name: "--method", Value: "GET"}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := j.Input(ctx, strings.NewReader("a\nb\nc\n"), job.InputOptions{})
	j.Start(ctx, nil)
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		if in.Take(l.Num, l.End) {
			res := job.Result{Line: l.Num, OK: true, Status: 200, Record: fmt.Appendf(nil, `{"line":%d,"status":200}`, l.Num)}
			if l.Text == "b" {
				res = job.Result{Line: l.Num, Kind: "timeout_total", Record: fmt.Appendf(nil, `{"line":%d,"error":{"kind":"timeout_total"}}`, l.Num)}
			}
			j.Store(res)
		}
	}
	in.Ended()
	if err := j.Close(); err != nil {
		fmt.Println(err)
		return
	}

	r, err := job.OpenReader(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	p, _ := r.Progress(ctx)
	fmt.Printf("%d of %d stored, %d failed\n", p.Stored, p.Total, p.Failed)
	failed, _ := job.ParseFilter("failed")
	for res, err := range r.Results(ctx, failed) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("line %d: %s %s\n", res.Line, res.Kind, res.Record)
	}
	// Output:
	// 3 of 3 stored, 1 failed
	// line 2: timeout_total {"line":2,"error":{"kind":"timeout_total"}}
}
