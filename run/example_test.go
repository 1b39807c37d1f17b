package run_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
)

// A bulk fetch of a JSONL input: each record's id fills the URL template,
// and each result is kept in a job file, so that running the same code
// again after a crash or a Stop fetches only what is missing.
func Example() {
	srv, _ := upstream.Start(upstream.Config{})
	defer srv.Close()
	in := `{"id": 1}
{"id": 2}
{"id": "three"}
`
	client, _ := fetch.New(fetch.Config{Concurrency: 8})
	defer client.Close()
	reqs, _ := template.NewRequests(template.RequestSpec{URL: srv.URL() + "/users/${{ .id }}"})
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "users.gather")

	for attempt := 1; attempt <= 2; attempt++ {
		j, err := job.Open(context.Background(), path, []job.Setting{{Name: "url", Value: srv.URL() + "/users/${{ .id }}"}}, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := run.New(run.Config{
			Input:  strings.NewReader(in),
			Format: run.JSONL,
			Stage:  run.Fetch{Client: client, Requests: reqs},
			Job:    j, // run closes it
		}).Run(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: fetched %d, the job holds %d of %d\n", attempt, res.Records, res.Job.Stored, res.Job.Total)
	}
	// Output:
	// run 1: fetched 3, the job holds 3 of 3
	// run 2: fetched 0, the job holds 3 of 3
}

// Stopping in two phases: Stop lets the work in flight finish (within
// Config.Grace) and starts nothing new; Cancel ends it at once.
func ExampleRun_Stop() {
	srv, _ := upstream.Start(upstream.Config{})
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{Concurrency: 2})
	defer client.Close()
	reqs, _ := template.NewRequests(template.RequestSpec{})
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "%s/item/%d\n", srv.URL(), i)
	}
	r := run.New(run.Config{
		Input: strings.NewReader(b.String()), Format: run.Lines,
		Stage: run.Fetch{Client: client, Requests: reqs},
	})
	r.Stop() // as a first Ctrl-C would, here before the run starts
	res, _ := r.Run(context.Background())
	fmt.Println("stopped:", res.Stopped, "records:", res.Records)
	// Output:
	// stopped: true records: 0
}
