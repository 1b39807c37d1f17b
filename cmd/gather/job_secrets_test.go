package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Sensitive header values (Authorization, Cookie, any name with auth,
// token, key, secret, pass, session, cookie or credential) are kept in the job as keyed hashes, never in
// clear, and a settings mismatch says which header differs without
// showing either value. A job that kept them in clear (an earlier
// release) still resumes with the same values, and is then rewritten
// hashed.
func TestJobKeepsNoSecrets(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/s/", 20, ""))
	jobFile := filepath.Join(dir, "crawl.db")
	secrets := []string{"tok-ONE-a1b2", "key-TWO-c3d4", "cookie-THREE", "tok-FOUR-e5f6", "hunter2-FIVE", "sess-SIX"}
	hdr := func(bearer string) []string {
		return []string{"-H", "Authorization: Bearer " + bearer, "-H", "X-Api-Key: " + secrets[1], "-H", "Cookie: s=" + secrets[2],
			"-H", "X-Password: " + secrets[4], "-H", "X-Session-Id: " + secrets[5], "-H", "Accept: text/plain"}
	}
	run := func(bearer string) rawResult {
		return gatherRaw(t, append(append([]string{"fetch", "-q", "--job", jobFile}, hdr(bearer)...), urls)...)
	}
	if res := run(secrets[0]); res.code != 0 {
		t.Fatalf("first run: exit %d: %s", res.code, res.stderr)
	}
	text := jobTablesText(t, jobFile)
	for _, s := range append(secrets[:3:3], secrets[4:]...) {
		if strings.Contains(text, s) {
			t.Errorf("the job keeps %q in clear:\n%s", s, text)
		}
	}
	if !strings.Contains(text, "Accept: text/plain") {
		t.Errorf("the job does not keep a header that is not secret:\n%s", text)
	}

	res := run(secrets[3])
	if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "Authorization") || !strings.Contains(res.stderr, "differs") {
		t.Errorf("another bearer token: exit %d, %q; want exit 2, one line naming Authorization", res.code, res.stderr)
	}
	t.Log(res.stderr)
	for _, s := range secrets {
		if strings.Contains(res.stderr, s) {
			t.Errorf("the mismatch shows %q: %s", s, res.stderr)
		}
	}

	// A job as an earlier release kept it: values in clear, no key.
	asEarlierRelease(t, jobFile, map[string]string{
		"headers": "Authorization: Bearer " + secrets[0] + "\nX-Api-Key: " + secrets[1] + "\nCookie: s=" + secrets[2] +
			"\nX-Password: " + secrets[4] + "\nX-Session-Id: " + secrets[5] + "\nAccept: text/plain",
	}, 10)
	if !strings.Contains(jobTablesText(t, jobFile), secrets[0]) {
		t.Fatal("the test did not make a job with the values in clear")
	}
	if res := run(secrets[0]); res.code != 0 {
		t.Fatalf("resuming a job with the values in clear: exit %d: %s", res.code, res.stderr)
	}
	text = jobTablesText(t, jobFile)
	for _, s := range append(secrets[:3:3], secrets[4:]...) {
		if strings.Contains(text, s) {
			t.Errorf("after a run, the job still keeps %q in clear", s)
		}
	}
	if res := run(secrets[0]); res.code != 0 {
		t.Fatalf("a third run: exit %d: %s", res.code, res.stderr)
	}
}
