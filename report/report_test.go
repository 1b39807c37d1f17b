package report

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/jobfixture"
	"github.com/gogather/gather/job"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hostile is a URL whose text would run a script if it were not escaped.
const hostile = "http://x/<script>alert(1)</script>"

// fixture is a small job whose numbers are worked out by hand in the
// tests: 10 results of 12 inputs, on hosts a.test, b.test, c.test and x.
var fixture = []jobfixture.Result{
	{Line: 1, URL: "http://a.test/1", Status: 200, Attempts: 1, MS: 10, Bytes: 100, Finished: 1000.5},
	{Line: 2, URL: "http://a.test/2", Status: 200, Attempts: 2, MS: 20, Bytes: 200, Finished: 1001.0},
	{Line: 3, URL: "http://a.test/3", Status: 404, Kind: fetch.KindHTTPStatus, Message: "404 Not Found", Attempts: 1, MS: 30, Finished: 1001.5},
	{Line: 4, URL: "https://b.test/4", Status: 200, Attempts: 1, MS: 40, Bytes: 400, Finished: 1002},
	{Line: 5, URL: "https://b.test/5", Status: 503, Kind: fetch.KindHTTPStatus, Message: "503 Service Unavailable", Attempts: 3, MS: 50, Finished: 1005},
	{Line: 6, URL: "https://b.test/6", Kind: fetch.KindTimeoutTotal, Message: "the attempt took longer than 1s", Attempts: 3, MS: 60, Finished: 1010},
	{Line: 7, URL: "http://c.test/7", Status: 200, Attempts: 1, MS: 70, Bytes: 700, Finished: 1020},
	{Line: 8, URL: "http://c.test/8", Kind: fetch.KindDNS, Message: "lookup c.test: no such host", Attempts: 1, MS: 80, Finished: 1030},
	{Line: 9, URL: "not a url", Kind: fetch.KindBadInput, Message: "not an http(s) URL", Finished: 1040},
	{Line: 10, URL: hostile, Kind: fetch.KindConnect, Message: "<b>refused</b> & gone", Attempts: 2, MS: 90, Finished: 1059},
}

// writeFixture writes the fixture's job file and returns its path; total
// < 0 leaves the total unknown.
func writeFixture(t *testing.T, results []jobfixture.Result, total int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := jobfixture.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(jobfixture.AddRun(ctx, db, jobfixture.Run{ID: 1, Started: 999, Ended: 1035, Status: "interrupted"}))
	must(jobfixture.AddRun(ctx, db, jobfixture.Run{ID: 2, Started: 1038, Status: "running"}))
	for i := range results {
		if results[i].Run == 0 {
			results[i].Run = 1
		}
	}
	must(jobfixture.Add(ctx, db, results...))
	must(jobfixture.AddHistory(ctx, db, jobfixture.Result{Line: 4, Run: 1, URL: "https://b.test/4", Status: 503,
		Kind: fetch.KindHTTPStatus, Message: "503", Attempts: 3, MS: 900, Finished: 1001}))
	if total >= 0 {
		must(jobfixture.SetMeta(ctx, db, "total", "12"))
	}
	return path
}

func load(t *testing.T, path string) *Report {
	t.Helper()
	ctx := context.Background()
	jr, err := job.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	r, err := Load(ctx, jr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadNumbers(t *testing.T) {
	r := load(t, writeFixture(t, fixture, 12))
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %+v, want %+v", what, got, want)
		}
	}
	check("total", *r.Total, int64(12))
	check("stored, ok, failed", []int64{r.Stored, r.OK, r.Failed}, []int64{10, 4, 6})
	check("bytes", r.Bytes, int64(1400))
	check("retries, superseded", []int64{r.Retries, r.Superseded}, []int64{6, 1})
	frac, known := r.Progress()
	check("progress", []any{frac, known}, []any{10.0 / 12, true})
	check("status codes", r.StatusCodes, []Count{{"0", 4}, {"200", 4}, {"404", 1}, {"503", 1}})
	check("status classes", r.StatusClasses, []Count{{"2xx", 4}, {"4xx", 1}, {"5xx", 1}, {"none", 4}})
	check("error kinds", r.ErrorKinds, []ErrorKind{
		{"http_status", 2, 3, "http://a.test/3", "404 Not Found"},
		{"bad_input", 1, 9, "not a url", "not an http(s) URL"},
		{"connect", 1, 10, hostile, "<b>refused</b> & gone"},
		{"dns", 1, 8, "http://c.test/8", "lookup c.test: no such host"},
		{"timeout_total", 1, 6, "https://b.test/6", "the attempt took longer than 1s"},
	})
	// 9 latencies 10, 20, ..., 90 (line 9 sent no request): nearest ranks
	// 5, 9 and 9.
	check("latency", r.Latency, Latency{N: 9, P50: 50, P90: 90, P99: 90, Max: 90, Mean: 50})
	check("latency histogram", r.LatencyHistogram, []LatencyBucket{{10, 20, 1}, {20, 50, 3}, {50, 100, 5}})
	check("busiest hosts", r.BusiestHosts, []Host{
		{"http://a.test:80", 3, 1, 0.333, 20}, {"https://b.test:443", 3, 2, 0.667, 50}, {"http://c.test:80", 2, 1, 0.5, 70}, {"http://x:80", 1, 1, 1, 90},
	})
	check("failing hosts", r.FailingHosts, []Host{
		{"https://b.test:443", 3, 2, 0.667, 50}, {"http://x:80", 1, 1, 1, 90}, {"http://c.test:80", 2, 1, 0.5, 70}, {"http://a.test:80", 3, 1, 0.333, 20},
	})
	check("slowest hosts", r.SlowestHosts, []Host{
		{"http://x:80", 1, 1, 1, 90}, {"http://c.test:80", 2, 1, 0.5, 70}, {"https://b.test:443", 3, 2, 0.667, 50}, {"http://a.test:80", 3, 1, 0.333, 20},
	})
	// 1000.5 to 1059: 1 s buckets from 1000.
	tp := r.Throughput
	check("bucket", tp.BucketSeconds, 1.0)
	check("buckets", len(tp.Buckets), 60)
	check("first bucket", tp.Buckets[0], TimeBucket{time.Unix(1000, 0).UTC(), 1, 0})
	check("second bucket", tp.Buckets[1], TimeBucket{time.Unix(1001, 0).UTC(), 2, 1})
	check("last bucket", tp.Buckets[59], TimeBucket{time.Unix(1059, 0).UTC(), 1, 1})
	var sum int64
	for _, b := range tp.Buckets {
		sum += b.N
	}
	check("results in buckets", sum, int64(10))
	check("first, last", []time.Time{tp.First, tp.Last}, []time.Time{time.UnixMilli(1000500).UTC(), time.Unix(1059, 0).UTC()})
	ended := time.Unix(1035, 0).UTC()
	check("runs", r.Runs, []Run{{1, time.Unix(999, 0).UTC(), &ended, "interrupted"}, {2, time.Unix(1038, 0).UTC(), nil, "running"}})
}

func TestJSONRoundTrip(t *testing.T) {
	r := load(t, writeFixture(t, fixture, 12))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Fatalf("JSON round trip differs:\n%+v\n%+v", back, *r)
	}
	for _, key := range []string{`"total":12`, `"latency_ms":{`, `"p99":90`, `"most_failing_hosts":[`, `"superseded":1`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func TestWriteText(t *testing.T) {
	r := load(t, writeFixture(t, fixture, 12))
	r.Job = "crawl.db"
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"job crawl.db",
		"progress: 10 of 12 inputs stored (83.3%)",
		"outcomes: 4 ok, 6 failed (60.0%)",
		"status classes: 2xx 4, 4xx 1, 5xx 1, none 4",
		"status codes: 0 4, 200 4, 404 1, 503 1",
		"latency ms (9 requests): p50 50.0  p90 90.0  p99 90.0  max 90.0  mean 50.0",
		"retries: 6 attempts beyond the first; 1 earlier result superseded by a later run",
		"throughput: 1970-01-01 00:16:40 to 00:17:39 (59s), per 1s",
		"  http_status         2  line 3: http://a.test/3  404 Not Found",
		"  http://x:80              90.0        1       1    100.0%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

func TestTotalUnknownAndEmptyJobs(t *testing.T) {
	r := load(t, writeFixture(t, fixture, -1))
	var buf bytes.Buffer
	r.WriteText(&buf)
	if want := "progress: 10 results stored; total unknown: the input was not read to its end yet"; !strings.Contains(buf.String(), want) {
		t.Errorf("no %q in\n%s", want, buf.String())
	}
	buf.Reset()
	if err := r.WriteHTML(&buf); err != nil || !strings.Contains(buf.String(), "total unknown") {
		t.Errorf("HTML of an unknown total: %v", err)
	}

	empty := load(t, writeFixture(t, nil, 0))
	if empty.Stored != 0 || len(empty.Throughput.Buckets) != 0 || empty.Latency.N != 0 || len(empty.LatencyHistogram) != 0 {
		t.Errorf("an empty job: %+v", empty)
	}
	buf.Reset()
	if err := empty.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "progress: 0 of 12 inputs stored (0%)") {
		t.Errorf("text of an empty job: %v\n%s", err, buf.String())
	}
	buf.Reset()
	if err := empty.WriteHTML(&buf); err != nil {
		t.Errorf("HTML of an empty job: %v", err)
	}
}

func TestBucketWidth(t *testing.T) {
	for _, c := range []struct{ span, want float64 }{
		{0, 1}, {58.5, 1}, {60, 2}, {119, 2}, {3600, 120}, {2400, 60}, {36000, 900}, {86400 * 3, 2 * 3600}, {86400 * 365, 7 * 86400},
	} {
		if got := bucketWidth(c.span); got != c.want {
			t.Errorf("bucketWidth(%v) = %v, want %v", c.span, got, c.want)
		}
		if n := c.span / bucketWidth(c.span); n >= MaxBuckets {
			t.Errorf("span %v: %v buckets", c.span, n)
		}
	}
}

// TestSyntheticJob checks the report of a bigger, realistic job agrees
// with the results read one by one from the same file.
func TestSyntheticJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "synthetic.db")
	if err := jobfixture.Synthetic(ctx, path, 3000, 7); err != nil {
		t.Fatal(err)
	}
	r := load(t, path)
	jr, err := job.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	var stored, failed int64
	var latencies []float64
	for res, err := range jr.Results(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		stored++
		if !res.OK {
			failed++
		}
		if res.Attempts > 0 {
			latencies = append(latencies, res.MS)
		}
	}
	slices.Sort(latencies)
	p50 := latencies[(len(latencies)+1)/2-1]
	if r.Stored != 3000 || r.Failed != failed || r.Latency.P50 != p50 || *r.Total != 3120 {
		t.Errorf("stored %d failed %d p50 %v total %d; the results say %d, %d, %v", r.Stored, r.Failed, r.Latency.P50, *r.Total, stored, failed, p50)
	}
	if n := len(r.Throughput.Buckets); n < 20 || n > MaxBuckets {
		t.Errorf("%d throughput buckets", n)
	}
	if len(r.BusiestHosts) != TopN || len(r.SlowestHosts) != TopN || len(r.FailingHosts) != TopN {
		t.Errorf("host lists of %d, %d, %d", len(r.BusiestHosts), len(r.SlowestHosts), len(r.FailingHosts))
	}
	if r.Superseded == 0 || r.Retries == 0 {
		t.Errorf("no superseded results or retries: %d, %d", r.Superseded, r.Retries)
	}
	var hist int64
	for _, b := range r.LatencyHistogram {
		hist += b.N
	}
	if hist != r.Latency.N {
		t.Errorf("the histogram holds %d latencies of %d", hist, r.Latency.N)
	}
}
