package run_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pipeline is a run's parts for a test: a client and plain-URL requests.
func fetchStage(t *testing.T, concurrency int) run.Fetch {
	t.Helper()
	client, err := fetch.New(fetch.Config{Concurrency: concurrency, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	reqs, err := template.NewRequests(template.RequestSpec{})
	if err != nil {
		t.Fatal(err)
	}
	return run.Fetch{Client: client, Requests: reqs}
}

// urls returns n URLs of srv, one a line.
func urls(base string, n int, query string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s/item/%d%s\n", base, i, query)
	}
	return b.String()
}

// collect is a sink that keeps every outcome.
type collect struct {
	mu   sync.Mutex
	outs []run.Outcome
	// failAfter, when > 0, makes writes past it fail with err.
	failAfter int
	err       error
	onWrite   func(n int)
	flushed   int
}

func (c *collect) Write(o run.Outcome) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAfter > 0 && len(c.outs) >= c.failAfter {
		return c.err
	}
	c.outs = append(c.outs, o)
	if c.onWrite != nil {
		c.onWrite(len(c.outs))
	}
	return nil
}

func (c *collect) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushed = len(c.outs)
	return nil
}

// flushedCount returns how many outcomes were written before the last
// Flush.
func (c *collect) flushedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushed
}

func (c *collect) kinds() map[string]int {
	m := map[string]int{}
	for _, o := range c.outs {
		m[o.Kind]++
	}
	return m
}

func openJob(t *testing.T, path string) *job.Job {
	t.Helper()
	j, err := job.Open(context.Background(), path, []job.Setting{{Name: "test", Value: "1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func stored(t *testing.T, path string) int64 {
	t.Helper()
	j := openJob(t, path)
	p, err := j.Progress(context.Background())
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	return p.Stored
}

// Every item yields one outcome, bad lines and all; skipped lines are
// counted, never outcomes; the sink gets each record's JSON as the stage
// encoded it.
func TestRunWritesOneOutcomePerRecord(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	in := "# a list\n" + srv.URL() + "/a\n\nnot-a-url\n" + srv.URL() + "/b\n"
	var out, log bytes.Buffer
	res, err := run.New(run.Config{
		Input: strings.NewReader(in), Format: run.Lines, Stage: fetchStage(t, 4),
		Sink: run.Records(output.JSONL(&out)), Log: &log,
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || res.OK != 2 || res.Failed != 1 || res.Skipped != 2 || !res.AnyFailed() {
		t.Fatalf("summary %+v", res.Summary)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(out.String(), `"line":4`) || !strings.Contains(out.String(), `"kind":"bad_input"`) {
		t.Fatalf("records:\n%s", out.String())
	}
	if !strings.Contains(log.String(), "3 records in") || !strings.Contains(log.String(), "2 inputs skipped") {
		t.Fatalf("summary text:\n%s", log.String())
	}
}

// Stop lets the requests in flight finish within the grace period and
// starts nothing new; every finished result is stored; the rest run on
// resume, and in the end each input has exactly one result.
func TestStopFinishesInFlightAndResumeCompletes(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{Latency: 100 * time.Millisecond})
	const n = 60
	in := urls(srv.URL(), n, "")
	path := filepath.Join(t.TempDir(), "j.gather")
	var r *run.Run
	sink := &collect{onWrite: func(k int) {
		if k == 5 {
			r.Stop()
		}
	}}
	r = run.New(run.Config{
		Input: strings.NewReader(in), Format: run.Lines, Stage: fetchStage(t, 8), Sink: sink,
		Job: openJob(t, path), Grace: 10 * time.Second,
	})
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Job == nil {
		t.Fatalf("result %+v", res)
	}
	// The requests in flight finished; an input a worker had taken but
	// not sent when Stop came may end cancelled, never one on the wire.
	finished := 0
	for _, o := range sink.outs {
		switch {
		case o.OK:
			finished++
		case o.Kind != string(fetch.KindCanceled) || o.Attempts > 0:
			t.Fatalf("after Stop with a grace period: %+v; want the requests in flight finished", o.Result)
		}
	}
	if len(sink.outs) >= n {
		t.Fatalf("%d outcomes of %d after Stop", len(sink.outs), n)
	}
	first := stored(t, path)
	if first != int64(finished) {
		t.Fatalf("stored %d, finished %d", first, finished)
	}
	// Resume: only the rest is fetched.
	sink2 := &collect{}
	res, err = run.New(run.Config{
		Input: strings.NewReader(in), Format: run.Lines, Stage: fetchStage(t, 8), Sink: sink2,
		Job: openJob(t, path),
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(sink2.outs)) != n-first || res.Job.Stored != n || res.Job.Total != n || res.Job.Skipped != first {
		t.Fatalf("resume fetched %d (want %d); job %+v", len(sink2.outs), n-first, *res.Job)
	}
	seen := map[int]int{}
	for _, o := range append(sink.outs, sink2.outs...) {
		if o.OK {
			seen[o.Line]++
		}
	}
	for l := 1; l <= n; l++ {
		if seen[l] != 1 {
			t.Fatalf("line %d has %d results", l, seen[l])
		}
	}
}

// Cancel (a second Ctrl-C) ends the requests in flight at once: they are
// cancelled outcomes, written but not stored, and run again on resume.
func TestCancelEndsInFlightAsCanceledNotStored(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{Latency: 5 * time.Second})
	in := urls(srv.URL(), 20, "")
	path := filepath.Join(t.TempDir(), "j.gather")
	r := run.New(run.Config{
		Input: strings.NewReader(in), Format: run.Lines, Stage: fetchStage(t, 4), Sink: &collect{},
		Job: openJob(t, path), Grace: time.Minute,
	})
	go func() {
		time.Sleep(200 * time.Millisecond)
		r.Stop()
		time.Sleep(100 * time.Millisecond)
		r.Cancel()
	}()
	start := time.Now()
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("Cancel took %v", time.Since(start))
	}
	if res.ErrorKinds[string(fetch.KindCanceled)] == 0 || res.Job.Stored != 0 {
		t.Fatalf("kinds %v, job %+v", res.ErrorKinds, *res.Job)
	}
}

// noReads is an input that fails the test when it is read.
type noReads struct{ t *testing.T }

func (n noReads) Read([]byte) (int, error) {
	n.t.Error("the input was read")
	return 0, io.EOF
}

// A Stop before Run reads nothing.
func TestStopBeforeRunReadsNothing(t *testing.T) {
	sink := &collect{}
	r := run.New(run.Config{Input: noReads{t}, Format: run.Lines, Stage: fetchStage(t, 2), Sink: sink})
	r.Stop()
	res, err := r.Run(context.Background())
	if err != nil || !res.Stopped || len(sink.outs) != 0 {
		t.Fatalf("err %v, stopped %v, %d outcomes", err, res.Stopped, len(sink.outs))
	}
}

// The end of the caller's context is a Cancel, whatever its cause: a
// deadline does not store the work it cut short as failed results.
func TestCallersDeadlineIsACancelNotStored(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{Latency: 5 * time.Second})
	path := filepath.Join(t.TempDir(), "j.gather")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sink := &collect{}
	res, err := run.New(run.Config{
		Input: strings.NewReader(urls(srv.URL(), 8, "")), Format: run.Lines, Stage: fetchStage(t, 4), Sink: sink,
		Job: openJob(t, path), Grace: time.Minute,
	}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Job.Stored != 0 || res.ErrorKinds[string(fetch.KindDeadline)] != 0 || len(sink.outs) == 0 {
		t.Fatalf("stopped %v, kinds %v, job %+v, %d outcomes", res.Stopped, res.ErrorKinds, *res.Job, len(sink.outs))
	}
	for _, o := range sink.outs {
		if o.Kind != string(fetch.KindCanceled) {
			t.Fatalf("outcome %+v, want cancelled", o.Result)
		}
	}
}

// A sink whose reader went away (a broken pipe) stops the run as Stop
// does: no new requests, the job goes on storing what finishes.
func TestClosedOutputStopsRunJobKeepsStoring(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{Latency: 50 * time.Millisecond})
	path := filepath.Join(t.TempDir(), "j.gather")
	sink := &collect{failAfter: 3, err: fmt.Errorf("write |1: %w", syscall.EPIPE)}
	res, err := run.New(run.Config{
		Input: strings.NewReader(urls(srv.URL(), 200, "")), Format: run.Lines, Stage: fetchStage(t, 4), Sink: sink,
		Job: openJob(t, path), Grace: 10 * time.Second,
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.OutputClosed == nil || res.Stopped || res.Records >= 200 {
		t.Fatalf("closed %v, stopped %v, %d records", res.OutputClosed, res.Stopped, res.Records)
	}
	// Every record that finished is stored; those read ahead and not
	// started when the run stopped end cancelled, and are not.
	canceled := res.ErrorKinds[string(fetch.KindCanceled)]
	if res.Job.Stored != res.Records-canceled || res.Job.Stored <= 3 {
		t.Fatalf("stored %d of %d records (%d cancelled)", res.Job.Stored, res.Records, canceled)
	}
}

// A sink failing otherwise ends the run with its error, after the
// records finished were stored.
func TestFailingSinkEndsRunWithError(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	boom := errors.New("disk on fire")
	_, err := run.New(run.Config{
		Input: strings.NewReader(urls(srv.URL(), 50, "")), Format: run.Lines, Stage: fetchStage(t, 4),
		Sink: &collect{failAfter: 2, err: boom},
	}).Run(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

// A job given another input is refused before anything runs.
func TestJobRefusesAnotherInput(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	path := filepath.Join(t.TempDir(), "j.gather")
	first := urls(srv.URL(), 5, "")
	if _, err := run.New(run.Config{Input: strings.NewReader(first), Format: run.Lines, Stage: fetchStage(t, 2), Job: openJob(t, path)}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink := &collect{}
	_, err := run.New(run.Config{Input: strings.NewReader("http://other/\n" + first), Format: run.Lines, Stage: fetchStage(t, 2), Sink: sink, Job: openJob(t, path)}).Run(context.Background())
	if !errors.Is(err, job.ErrOtherInput) || len(sink.outs) != 0 {
		t.Fatalf("err %v, %d outcomes", err, len(sink.outs))
	}
}

// A job over an input without records says so, not that "all 0 inputs
// are already stored".
func TestJobOfAnEmptyInputSaysSo(t *testing.T) {
	var log bytes.Buffer
	res, err := run.New(run.Config{
		Input: strings.NewReader("\n# nothing\n"), Format: run.Lines, Stage: fetchStage(t, 2),
		Job: openJob(t, filepath.Join(t.TempDir(), "j.gather")), JobName: "j.gather", Log: &log,
	}).Run(context.Background())
	if err != nil || res.Job.Total != 0 || !strings.Contains(log.String(), "holds no record") || strings.Contains(log.String(), "already stored") {
		t.Fatalf("err %v, job %+v, log:\n%s", err, res.Job, log.String())
	}
}

// A record written reaches the sink's reader within about FlushEvery,
// also while the rest of the work hangs: the sink is flushed by time, not
// only when the next outcome comes.
func TestSinkFlushedWhileWorkHangs(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	sink := &collect{}
	r := run.New(run.Config{
		Input: strings.NewReader(srv.URL() + "/fast\n" + srv.URL() + "/hang?hang=1\n"), Format: run.Lines,
		Stage: fetchStage(t, 2), Sink: sink,
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(context.Background())
	}()
	deadline := time.Now().Add(20 * time.Second)
	for sink.flushedCount() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	hanging := true
	select {
	case <-done:
		hanging = false
	default:
	}
	r.Cancel()
	<-done
	if sink.flushedCount() < 1 || !hanging {
		t.Fatalf("flushed %d outcomes while the other request hung (still hanging: %v)", sink.flushedCount(), hanging)
	}
}
