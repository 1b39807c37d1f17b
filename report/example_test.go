package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gogather/gather/job"
	"github.com/gogather/gather/report"
)

// A job of four results, written with a job.Builder (as a run of gather
// fetch would have stored them), reported for a terminal.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "report-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "crawl.db")
	ctx := context.Background()

	b, err := job.Build(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	b.AddRun(ctx, job.Run{ID: 1, Started: t0, Ended: t0.Add(4 * time.Second), Status: "done"})
	for i, r := range []struct {
		status int
		kind   string
		ms     float64
	}{{200, "", 40}, {200, "", 60}, {503, "http_status", 900}, {200, "", 55}} {
		line := i + 1
		rec := fmt.Sprintf(`{"line":%d,"url":"https://api.example.com/items/%d","status":%d}`, line, line, r.status)
		if r.kind != "" {
			rec = fmt.Sprintf(`{"line":%d,"url":"https://api.example.com/items/%d","status":%d,"error":{"kind":%q,"message":"503 Service Unavailable"}}`, line, line, r.status, r.kind)
		}
		b.AddResults(ctx, job.Row{
			Result: job.Result{Line: line, OK: r.kind == "", Kind: r.kind, Host: "https://api.example.com:443",
				Status: r.status, Attempts: 1, MS: r.ms, Bytes: 100, Record: []byte(rec)},
			Run: 1, Finished: t0.Add(time.Duration(line) * time.Second),
		})
	}
	b.SetMeta(ctx, "total", "4")
	b.Close()

	jr, err := job.OpenReader(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer jr.Close()
	rep, err := report.Load(ctx, jr)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep.WriteText(os.Stdout)
	// Output:
	// runs: #1 done, 2026-01-05 09:00:00 to 09:00:04 UTC
	// progress: 4 of 4 inputs stored (100.0%)
	// outcomes: 3 ok, 1 failed (25.0%); 400 B read
	// status classes: 2xx 3, 5xx 1
	// status codes: 200 3, 503 1
	// latency ms (4 requests): p50 55.0  p90 900.0  p99 900.0  max 900.0  mean 263.8
	// retries: 0 attempts beyond the first; 0 earlier results superseded by a later run
	// throughput: 2026-01-05 09:00:01 to 09:00:04 (3s), per 1s: mean 1.3/s, peak 1.0/s
	//   ████
	//
	//   error kind   failed  first failure
	//   http_status       1  line 3: https://api.example.com/items/3  503 Service Unavailable
	//
	// slowest hosts (by median latency)
	//   host                         median ms  results  failed  failed %
	//   https://api.example.com:443       55.0        4       1     25.0%
	//
	// most failing hosts
	//   host                         median ms  results  failed  failed %
	//   https://api.example.com:443       55.0        4       1     25.0%
}
