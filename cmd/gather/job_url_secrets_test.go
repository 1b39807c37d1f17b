package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/job"
)

// jobTablesText returns every row of every table of the job file but
// results and history (meta and runs) as text, to look for secrets in.
func jobTablesText(t *testing.T, path string) string {
	t.Helper()
	r := readJob(t, path)
	ctx := context.Background()
	// The results and history tables keep each fetched record (its url as
	// fetched): not settings, and out of this test's scope.
	m, err := r.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := r.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m.Values)) {
		fmt.Fprintf(&b, "%s\t%s\n", k, m.Values[k])
	}
	for _, run := range runs {
		fmt.Fprintf(&b, "%d\t%v\t%v\t%s\t%s\n", run.ID, run.Started, run.Ended, run.Status, run.Settings)
	}
	return b.String()
}

// asEarlierRelease rewrites the job file at path as an earlier release
// kept it: settings named by flags, with the values of set (by key) in
// clear, no key for hashes, the results after line keep removed and no
// checkpoint or total (the lines after keep run again).
func asEarlierRelease(t *testing.T, path string, set map[string]string, keep int) {
	t.Helper()
	ctx := context.Background()
	m, err := readJob(t, path).Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings := m.Settings
	for i, s := range settings {
		if v, ok := set[s.Key]; ok {
			settings[i].Value = v
		}
	}
	b, err := job.Rebuild(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, err := range []error{
		b.SetSettings(ctx, settings, true),
		b.DeleteMeta(ctx, "key", "checkpoint", "total"),
		b.DeleteResults(ctx, keep),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The userinfo secret of a --url template (and of a URL inside --data) is
// kept in the job as a keyed hash, never in clear, nor in the runs table;
// a mismatch of only that secret says the setting differs without showing
// either value, and a mismatch elsewhere shows the values masked. A job
// that kept them in clear (an earlier release) still resumes with the
// same values, and is then rewritten hashed.
func TestJobKeepsNoURLSecrets(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	var in strings.Builder
	for i := range 10 {
		fmt.Fprintf(&in, "{\"p\":\"u%d\"}\n", i)
	}
	input := writeTestFile(t, dir, "in.jsonl", in.String())
	jobFile := filepath.Join(dir, "crawl.db")
	host := strings.TrimPrefix(srv.URL(), "http://")
	secrets := []string{"pw-ONE-a1b2", "pw-TWO-c3d4", "data-THREE-e5", "data-FOUR-f6", "tokFIVEg7"}
	run := func(pw, dataPw, token string) rawResult {
		return gatherRaw(t, "fetch", "-q", "--job", jobFile, "--input-format", "jsonl",
			"--url", "http://alice:"+pw+"@"+host+"/s/${{ .p }}",
			"--data", "cb=http://bob:"+dataPw+"@hook.example/x&t=https://"+token+"@other.example/", input)
	}
	if res := run(secrets[0], secrets[2], secrets[4]); res.code != 0 {
		t.Fatalf("first run: exit %d: %s", res.code, res.stderr)
	}
	text := jobTablesText(t, jobFile)
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the job keeps %q in clear:\n%s", s, text)
		}
	}
	if !strings.Contains(text, "alice") || !strings.Contains(text, "hook.example") {
		t.Errorf("the job does not keep the rest of --url and --data in clear:\n%s", text)
	}

	check := func(what string, res rawResult, want ...string) {
		t.Helper()
		t.Log(res.stderr)
		if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, %q; want exit 2, one line", what, res.code, res.stderr)
		}
		for _, w := range want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: %q does not say %q", what, res.stderr, w)
			}
		}
		for _, s := range secrets {
			if strings.Contains(res.stderr, s) {
				t.Errorf("%s: the mismatch shows %q: %s", what, s, res.stderr)
			}
		}
		if strings.Contains(res.stderr, "hmac") {
			t.Errorf("%s: the mismatch shows a hash: %s", what, res.stderr)
		}
	}
	check("another --url password", run(secrets[1], secrets[2], secrets[4]), "--url differs (a secret: neither is shown)")
	check("another --data password", run(secrets[0], secrets[3], secrets[4]), "--data differs (a secret: neither is shown)")
	check("another --data token", run(secrets[0], secrets[2], "tokOTHER"), "--data differs (a secret: neither is shown)")
	res := gatherRaw(t, "fetch", "-q", "--job", jobFile, "--input-format", "jsonl",
		"--url", "http://carol:"+secrets[1]+"@"+host+"/s/${{ .p }}",
		"--data", "cb=http://bob:"+secrets[2]+"@hook.example/x&t=https://"+secrets[4]+"@other.example/", input)
	check("another --url user", res, "--url was", "alice:xxxxx@", "carol:xxxxx@")

	// A job as an earlier release kept it: values in clear, no key.
	asEarlierRelease(t, jobFile, map[string]string{
		"url_template": "http://alice:" + secrets[0] + "@" + host + "/s/${{ .p }}",
		"body":         "cb=http://bob:" + secrets[2] + "@hook.example/x&t=https://" + secrets[4] + "@other.example/",
	}, 5)
	if !strings.Contains(jobTablesText(t, jobFile), secrets[0]) {
		t.Fatal("the test did not make a job with the values in clear")
	}
	if res := run(secrets[0], secrets[2], secrets[4]); res.code != 0 {
		t.Fatalf("resuming a job with the values in clear: exit %d: %s", res.code, res.stderr)
	}
	text = jobTablesText(t, jobFile)
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("after a run, the job still keeps %q in clear", s)
		}
	}
	if res := run(secrets[0], secrets[2], secrets[4]); res.code != 0 {
		t.Fatalf("a third run: exit %d: %s", res.code, res.stderr)
	}
}
