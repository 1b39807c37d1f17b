package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/jobfixture"
)

// Export's CSV error column never shows a URL's password, nor does the
// report of the same job (text, --json, --html).
func TestExportAndReportMaskURLPasswords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := jobfixture.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = jobfixture.AddRun(ctx, db, jobfixture.Run{ID: 1, Started: 1000, Ended: 1010, Status: "done"})
	if err == nil {
		err = jobfixture.Add(ctx, db,
			jobfixture.Result{Line: 1, Run: 1, URL: "https://alice:s3cret-pw@a.test/1", Kind: fetch.KindConnect,
				Message: `Get "https://alice:s3cret-pw@a.test/1": connection refused`, Attempts: 1, MS: 5, Finished: 1001},
			jobfixture.Result{Line: 2, Run: 1, URL: "http://b.test/2", Status: 200, Attempts: 1, MS: 3, Finished: 1002})
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	res := gatherRaw(t, "export", path, "--format", "csv", "--fields", "line,error_kind,error")
	if res.code != 0 || strings.Contains(res.stdout, "s3cret-pw") || !strings.Contains(res.stdout, "alice:xxxxx@a.test") {
		t.Errorf("export csv: exit %d, %s\n%s", res.code, res.stderr, res.stdout)
	}
	dir := t.TempDir()
	res = gatherRaw(t, "report", path, "--json", filepath.Join(dir, "r.json"), "--html", filepath.Join(dir, "r.html"))
	if res.code != 0 || strings.Contains(res.stdout, "s3cret-pw") || !strings.Contains(res.stdout, "alice:xxxxx@a.test") {
		t.Errorf("report: exit %d, %s\n%s", res.code, res.stderr, res.stdout)
	}
	for _, name := range []string{"r.json", "r.html"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || strings.Contains(string(b), "s3cret-pw") {
			t.Errorf("report %s shows the password", name)
		}
	}
}
