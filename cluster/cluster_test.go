package cluster_test

import (
	"bytes"
	"context"
	"errors"
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
	t.Cleanup(s.Close)
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
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
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

// openJob opens a fetch job of plain URL lines at path.
func openJob(t *testing.T, path string) *job.Job {
	t.Helper()
	settings := run.FetchSettings{Format: run.Lines, BodyPolicy: "hash"}
	j, err := job.Open(context.Background(), path, settings.JobSettings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// newCoordinator returns a started coordinator of j on the server at url.
func newCoordinator(t *testing.T, url string, j *job.Job, spec cluster.Spec) *cluster.Coordinator {
	t.Helper()
	reqs, err := template.NewRequests(template.RequestSpec{})
	if err != nil {
		t.Fatal(err)
	}
	local, err := fetch.New(fetch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(local.Close)
	spec.ID = j.ID()
	if spec.AckWait == 0 {
		spec.AckWait, spec.LeaseTTL = 5*time.Second, 4*time.Second
	}
	c := &cluster.Coordinator{JS: connect(t, url), Requests: reqs, Client: local, Spec: spec}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// urlLines returns n URLs of base, one a line.
func urlLines(base string, n int, query string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s/item/%d%s\n", base, i, query)
	}
	return b.String()
}

func TestWorkerJoiningHalfWayTakesPartitions(t *testing.T) {
	url := startServer(t)
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 2000
	j := openJob(t, filepath.Join(t.TempDir(), "job.db"))
	coord := newCoordinator(t, url, j, cluster.Spec{Partitions: 8})
	startWorker(t, url, "first", 8)
	var res run.Result
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		res, err = run.New(run.Config{Input: strings.NewReader(urlLines(srv.URL(), n, "?latency=5ms")), Format: run.Lines, Stage: coord, Job: j}).Run(context.Background())
	})
	for srv.Stats().Requests < n/4 {
		time.Sleep(10 * time.Millisecond)
	}
	startWorker(t, url, "joined", 8)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := coord.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res.Job.Stored != n || res.Job.Failed != 0 {
		t.Fatalf("job: %+v, want %d stored, none failed", res.Job, n)
	}
	counts := map[string]int64{}
	for _, w := range coord.Workers() {
		counts[w.Worker] = w.Results
	}
	if counts["joined"] == 0 || counts["first"]+counts["joined"] != n {
		t.Errorf("results by worker: %v; want the worker that joined to take some of the %d", counts, n)
	}
}

func TestStoppedCoordinatorCancelsWhatNoWorkerHoldsAndResumes(t *testing.T) {
	url := startServer(t)
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 300
	input := urlLines(srv.URL(), n, "")
	path := filepath.Join(t.TempDir(), "job.db")
	j := openJob(t, path)
	coord := newCoordinator(t, url, j, cluster.Spec{Partitions: 4})
	r := run.New(run.Config{Input: strings.NewReader(input), Format: run.Lines, Stage: coord, Job: j, Grace: time.Minute})
	done := make(chan struct{})
	var res run.Result
	var err error
	go func() {
		defer close(done)
		res, err = r.Run(context.Background())
	}()
	time.Sleep(300 * time.Millisecond) // published, and no worker to take them
	start := time.Now()
	r.Stop()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the stopped run waits for inputs no worker holds")
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.Stored != 0 || res.ErrorKinds["canceled"] != n {
		t.Fatalf("stopped with no worker: %d stored, %v; want none stored, all %d cancelled", res.Job.Stored, res.ErrorKinds, n)
	}
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	if err := coord.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same job again, with a worker: every input runs once.
	j = openJob(t, path)
	coord = newCoordinator(t, url, j, cluster.Spec{Partitions: 4})
	startWorker(t, url, "w", 8)
	res, err = run.New(run.Config{Input: strings.NewReader(input), Format: run.Lines, Stage: coord, Job: j}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.Stored != n || res.Job.Failed != 0 || srv.Stats().Requests != n {
		t.Fatalf("resumed: %+v, %d requests; want %d stored and requested once each", res.Job, srv.Stats().Requests, n)
	}
	coord.Finish(context.Background())
}

func TestRequestLargerThanMaxPayloadIsBadInput(t *testing.T) {
	url := startServer(t)
	j := openJob(t, filepath.Join(t.TempDir(), "job.db"))
	coord := newCoordinator(t, url, j, cluster.Spec{Partitions: 2})
	big, err := template.NewRequests(template.RequestSpec{Method: "POST", Body: bytes.Repeat([]byte("x"), cluster.ServerMaxPayload+1)})
	if err != nil {
		t.Fatal(err)
	}
	coord.Requests = big
	res, err := run.New(run.Config{Input: strings.NewReader(urlLines("http://127.0.0.1:1", 3, "")), Format: run.Lines, Stage: coord, Job: j}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	coord.Finish(context.Background())
	if res.Job.Stored != 3 || res.ErrorKinds["bad_input"] != 3 {
		t.Fatalf("job %+v, errors %v; want 3 bad_input results stored", res.Job, res.ErrorKinds)
	}
}

// With one input out at a time, each is taken as soon as it is published:
// a worker waits on an empty partition rather than polling it.
func TestOneInputPendingAtATimeRunsThrough(t *testing.T) {
	url := startServer(t)
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 40
	j := openJob(t, filepath.Join(t.TempDir(), "job.db"))
	coord := newCoordinator(t, url, j, cluster.Spec{Partitions: 4})
	coord.MaxPending = 1
	startWorker(t, url, "w", 4)
	res, err := run.New(run.Config{Input: strings.NewReader(urlLines(srv.URL(), n, "")), Format: run.Lines, Stage: coord, Job: j}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	coord.Finish(context.Background())
	if res.Job.Stored != n || res.Job.Failed != 0 {
		t.Fatalf("job %+v; want %d stored", res.Job, n)
	}
	t.Logf("%d inputs one at a time in %.2fs", n, res.Seconds)
}

// A copy of a job file is the same job on the server: while one copy's
// coordinator runs, the other's is refused.
func TestSecondCoordinatorOfAJobIsRefused(t *testing.T) {
	url := startServer(t)
	dir := t.TempDir()
	j := openJob(t, filepath.Join(dir, "job.db"))
	first := newCoordinator(t, url, j, cluster.Spec{Partitions: 2, AckWait: 5 * time.Second, LeaseTTL: time.Second})
	reqs, _ := template.NewRequests(template.RequestSpec{})
	second := &cluster.Coordinator{JS: connect(t, url), Requests: reqs,
		Spec: cluster.Spec{ID: j.ID(), Partitions: 2, AckWait: 5 * time.Second, LeaseTTL: time.Second}}
	if err := second.Start(context.Background()); !errors.Is(err, cluster.ErrJobBusy) {
		t.Fatalf("a second coordinator of the job: %v, want ErrJobBusy", err)
	}
	if err := first.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := second.Start(context.Background()); err != nil {
		t.Fatalf("once the first ended: %v", err)
	}
	second.Finish(context.Background())
	j.Close()
}
