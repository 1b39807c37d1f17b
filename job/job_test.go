package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/input"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testSettings = []Setting{{Name: "--method", Value: "GET"}, {Name: "--url", Value: ""}}

// runLines runs a job over the lines of file, "fetching" (storing a made
// up result for) each taken line for which fetch says so, and stopping
// after stopAfter taken lines (0: never). It returns the lines taken.
func runLines(t *testing.T, path, file string, retry *Filter, stopAfter int, result func(line int) testRecord) []int {
	t.Helper()
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var check io.Reader
	if retry != nil {
		c, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check = c
	}
	in, err := j.Input(ctx, f, InputOptions{Retry: retry, Check: check})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	j.Start(ctx, nil)
	var taken []int
	ended := true
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		if !in.Take(l.Num, l.End) {
			continue
		}
		if stopAfter > 0 && len(taken) == stopAfter {
			ended = false
			break
		}
		taken = append(taken, l.Num)
		if err := j.Store(result(l.Num).result()); err != nil {
			t.Fatal(err)
		}
	}
	if ended {
		in.Ended()
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return taken
}

func writeLines(t *testing.T, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "http://h/%d\n", i)
	}
	p := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

func TestResumeSkipsStoredInputs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := writeLines(t, 5000)
	first := runLines(t, path, file, nil, 3000, okResult)
	second := runLines(t, path, file, nil, 0, okResult)
	if len(first) != 3000 || len(second) != 2000 || second[0] != 3001 {
		t.Fatalf("first run took %d, second %d starting at %v", len(first), len(second), second[:1])
	}
	j, err := Open(context.Background(), path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := j.Progress(context.Background())
	j.Close()
	if err != nil || p.Stored != 5000 || p.Total != 5000 {
		t.Fatalf("progress %+v, %v", p, err)
	}
	// A third run has nothing to do.
	if third := runLines(t, path, file, nil, 0, okResult); len(third) != 0 {
		t.Fatalf("third run took %d", len(third))
	}
}

func TestResumeRefusesAnotherInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := writeLines(t, 5000)
	runLines(t, path, file, nil, 3000, okResult)
	b, _ := os.ReadFile(file)
	b[10] = 'X'
	os.WriteFile(file, b, 0o644)
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	f, _ := os.Open(file)
	defer f.Close()
	if _, err := j.Input(ctx, f, InputOptions{}); err == nil || !strings.Contains(err.Error(), "not the job's") {
		t.Fatalf("changed input: %v", err)
	}
}

func TestSettingsAndLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, testSettings, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	j.Close()
	_, err = Open(ctx, path, []Setting{{Name: "--method", Value: "POST"}, {Name: "--url", Value: ""}}, nil)
	if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), `--method was "GET", this run has "POST"`) {
		t.Fatalf("other method: %v", err)
	}
}

func TestRetryFailedReplacesAndKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := writeLines(t, 1000)
	flaky := func(line int) testRecord {
		r := okResult(line)
		switch line % 10 {
		case 3:
			r.Status, r.Kind, r.Message = 503, "http_status", "503"
		case 7:
			r.Status, r.Kind, r.Message = 0, "timeout_total", "slow"
		}
		return r
	}
	runLines(t, path, file, nil, 0, flaky)
	f503, _ := ParseFilter("5xx")
	again := runLines(t, path, file, f503, 0, okResult)
	if len(again) != 100 || again[0] != 3 {
		t.Fatalf("retried %d lines, first %v; want the 100 with a 503", len(again), again[:1])
	}
	all, _ := ParseFilter("")
	again = runLines(t, path, file, all, 0, okResult)
	if len(again) != 100 || again[0] != 7 {
		t.Fatalf("retried %d lines; want the 100 timeouts", len(again))
	}
	db, err := openReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var results, failed, history int
	db.QueryRow("SELECT count(*), sum(ok = 0) FROM results").Scan(&results, &failed)
	db.QueryRow("SELECT count(*) FROM history").Scan(&history)
	if results != 1000 || failed != 0 || history != 200 {
		t.Fatalf("%d results, %d failed, %d in history; want 1000, 0, 200", results, failed, history)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter("dns, 503,5xx")
	if err != nil || len(f.Kinds) != 1 || f.Statuses[0] != 503 || f.Classes[0] != 5 {
		t.Fatalf("%+v, %v", f, err)
	}
	for _, bad := range []string{"nope", "42", "6xx"} {
		if _, err := ParseFilter(bad, "dns", "connect"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A read-only job file gets a clear error and is not changed. (Root
// writes to read-only files: the test then has nothing to show.)
func TestReadOnlyJobFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not apply")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	runLines(t, path, writeLines(t, 10), nil, 0, okResult)
	os.Chmod(path, 0o444)
	before, _ := os.ReadFile(path)
	_, err := Open(context.Background(), path, testSettings, nil)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("read-only job: %v", err)
	}
	if after, _ := os.ReadFile(path); string(before) != string(after) {
		t.Fatal("the read-only file changed")
	}
}

// A retry runs failures again: a filter of successes ("ok") is refused,
// not taken for nothing to do.
func TestRetryOfSuccessesIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 10)
	runLines(t, path, file, nil, 0, okResult)
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	f, _ := os.Open(file)
	defer f.Close()
	ok, _ := ParseFilter("ok")
	if _, err := j.Input(ctx, f, InputOptions{Retry: ok, Check: f}); err == nil || !strings.Contains(err.Error(), "ok") {
		t.Errorf("a retry of ok: %v; want an error", err)
	}
}
