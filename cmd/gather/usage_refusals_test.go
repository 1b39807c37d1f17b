package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wantUsage checks a usage error: exit 2 and one line holding want.
func wantUsage(t *testing.T, res result, args []string, want string) {
	t.Helper()
	if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", args, res.code, res.stderr, want)
	}
}

func TestNegativeLatencyIsUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "-n", "1", "--latency", "-1s"},
		{"demo", "-n", "1", "--jitter", "-1s"},
		// An address that cannot be listened on: the run ends even if the
		// latency were not checked first.
		{"upstream", "--addr", "bad:address:x", "--latency", "-1s"},
		{"upstream", "--addr", "bad:address:x", "--jitter", "-1s"},
	} {
		flag := args[len(args)-2]
		wantUsage(t, runIn(t, "", args...), args, flag+" must not be negative")
	}
}

func TestJobInMissingDirectoryIsUsageError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nodir")
	args := []string{"fetch", "-q", "--job", filepath.Join(dir, "x.db"), "-"}
	wantUsage(t, runIn(t, "", args...), args, "no such directory "+dir)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}

func TestExportUnknownStatusIsUsageError(t *testing.T) {
	path := writeJob(t, 6)
	for _, s := range []string{"6xx", "9xx", "0xx", "99", "1", "1000", "5xx,6xx"} {
		args := []string{"export", path, "--status", s}
		res := runIn(t, "", args...)
		wantUsage(t, res, args, "--status")
		if len(res.records) != 0 {
			t.Errorf("%v: %d records written", args, len(res.records))
		}
	}
	// What is documented still works: codes, classes 1xx to 5xx, and 0.
	for _, s := range []string{"404", "5xx", "0", "1xx", "999"} {
		args := []string{"export", path, "--status", s}
		if res := runIn(t, "", args...); res.code != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}
