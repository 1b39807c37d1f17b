package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/gogather/gather/cluster"
	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer starts an embedded JetStream server for the test and
// returns its client URL.
func startServer(t *testing.T) string {
	t.Helper()
	s, err := cluster.StartServer("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// connect connects to url for the test.
func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// startWorker runs a worker until the test ends.
func startWorker(t *testing.T, url, name string, concurrency int) {
	t.Helper()
	w := &cluster.Worker{JS: connect(t, url), Name: name, Concurrency: concurrency,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx, ctx); err != nil {
			t.Errorf("worker %s: %v", name, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// testWriter writes to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestJobRunsOnWorkersExactlyOnceWithinPerHostLimit(t *testing.T) {
	url := startServer(t)
	var hosts []string
	var servers []*upstream.Server
	for range 3 {
		srv := upstreamtest.Start(t, upstream.Config{})
		servers = append(servers, srv)
		hosts = append(hosts, srv.URL())
	}
	const n, perHost = 3000, 3
	var in strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "%s/item/%d?latency=2ms\n", hosts[i%len(hosts)], i)
	}
	reqs, err := template.NewRequests(template.RequestSpec{})
	if err != nil {
		t.Fatal(err)
	}
	settings := run.FetchSettings{Format: run.Lines, BodyPolicy: "hash"}
	ctx := context.Background()
	j, err := job.Open(ctx, filepath.Join(t.TempDir(), "job.db"), settings.JobSettings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	local, err := fetch.New(fetch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	coord := &cluster.Coordinator{
		JS: connect(t, url), Requests: reqs, Client: local, MaxPending: 500,
		Spec: cluster.Spec{ID: j.ID(), Partitions: 8, ByHost: true, Fetch: fetch.Config{PerHost: perHost, Retries: -1},
			AckWait: 5 * time.Second, LeaseTTL: 4 * time.Second},
	}
	if err := coord.Start(ctx); err != nil {
		t.Fatal(err)
	}
	startWorker(t, url, "w1", 16)
	startWorker(t, url, "w2", 16)
	res, err := run.New(run.Config{Input: strings.NewReader(in.String()), Format: run.Lines, Stage: coord, Job: j}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := coord.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Job == nil || res.Job.Stored != n || res.Job.Failed != 0 {
		t.Fatalf("job: %+v, want %d stored, none failed", res.Job, n)
	}
	workers := coord.Workers()
	total := int64(0)
	for _, w := range workers {
		total += w.Results
	}
	if total != n {
		t.Errorf("workers: %+v, want %d results in all", workers, n)
	}
	for _, srv := range servers {
		for host, most := range srv.Stats().MaxConcurrent {
			if most > perHost {
				t.Errorf("%s had %d requests at once, over the per-host limit %d", host, most, perHost)
			}
		}
	}
	t.Logf("workers: %+v", workers)
}
