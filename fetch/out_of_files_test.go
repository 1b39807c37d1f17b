//go:build linux

package fetch_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// nofileURL, in the environment, makes TestOutOfFilesIsLocal the child:
// it lowers its own open-files limit and fetches that URL.
const nofileURL = "GATHER_TEST_NOFILE_URL"

// Running out of file descriptors is the process's fault, not the host's:
// kind other with a message that says so, never connect, never counted
// toward the circuit breaker (BreakAfter 1 would trip at the first). The
// test binary runs itself as a child whose open-files limit is lowered to
// a few more than it has open, so the parent's limit is untouched; the
// server runs in the parent.
func TestOutOfFilesIsLocal(t *testing.T) {
	if u := os.Getenv(nofileURL); u != "" {
		outOfFilesChild(t, u)
		return
	}
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutOfFilesIsLocal$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), nofileURL+"="+srv.URL()+"/x?latency=100ms")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func outOfFilesChild(t *testing.T, url string) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	client := newClient(t, fetch.Config{Concurrency: 40, Retries: 3, RetryBase: 50e6, BreakAfter: 1})
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = uint64(len(fds) + 6)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("cannot lower the open-files limit:", err)
	}
	reqs := make([]string, 40)
	for i := range reqs {
		reqs[i] = fmt.Sprintf("%s&i=%d", url, i)
	}
	hit := 0
	isOutOfFiles := func(e *fetch.Error) bool {
		return e != nil && e.Kind == fetch.KindOther && strings.Contains(e.Message, "ran out of open files")
	}
	for rec := range client.Run(context.Background(), requests(reqs...)) {
		for _, a := range rec.Retries {
			if isOutOfFiles(a.Error) {
				hit++
			} else if a.Error != nil {
				t.Errorf("line %d: a retry's error %+v", rec.Line, a.Error)
			}
		}
		switch {
		case rec.Error == nil:
		case isOutOfFiles(rec.Error):
			hit++
		default:
			t.Errorf("line %d: %+v", rec.Line, rec.Error)
		}
	}
	if hit == 0 {
		t.Skip("no attempt ran out of open files: the limit did not bite")
	}
	t.Logf("%d attempts ran out of open files", hit)
}
