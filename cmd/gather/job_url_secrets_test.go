package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	_ "modernc.org/sqlite"
)

// jobTablesText returns every row of every table of the job file but
// results and history as text, to look for secrets in.
func jobTablesText(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	// The results and history tables keep each fetched record (its url as
	// fetched): not settings, and out of this test's scope.
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('results', 'history')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	var b strings.Builder
	for _, n := range names {
		rows, err := db.Query("SELECT * FROM " + n)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v\t", v)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
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
	db, err := sql.Open("sqlite", jobFile)
	if err != nil {
		t.Fatal(err)
	}
	plain := fmt.Sprintf(`[{"name":"--input-format","value":"jsonl"},{"name":"--url","value":"http://alice:%s@%s/s/${{ .p }}"},{"name":"--method","value":""},{"name":"--header","value":""},{"name":"--data","value":"cb=http://bob:%s@hook.example/x\u0026t=https://%s@other.example/"}]`,
		secrets[0], host, secrets[2], secrets[4])
	var settings string
	db.QueryRow("SELECT value FROM meta WHERE key = 'settings'").Scan(&settings)
	// Keep the settings after --data as they are.
	if i := strings.Index(settings, `{"name":"--keep"`); i >= 0 {
		plain = strings.TrimSuffix(plain, "]") + "," + settings[i:]
	}
	var method string
	db.QueryRow(`SELECT value ->> '$[2].value' FROM meta WHERE key = 'settings'`).Scan(&method)
	plain = strings.Replace(plain, `"--method","value":""`, `"--method","value":"`+method+`"`, 1)
	if _, err := db.Exec("UPDATE meta SET value = ? WHERE key = 'settings'", plain); err != nil {
		t.Fatal(err)
	}
	db.Exec("DELETE FROM meta WHERE key = 'key'")
	db.Exec("DELETE FROM results WHERE line > 5")
	db.Exec("DELETE FROM meta WHERE key IN ('checkpoint', 'total')")
	db.Close()
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
