package job

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// The runs table keeps a run's settings with the password of any URL in
// them masked, and a URL setting keeps its userinfo secret hashed.
func TestRunSettingsKeepNoURLPassword(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	settings := []Setting{{Name: "--url", Value: "http://u:SECRET-url@h/{p}", URLs: true}}
	j, err := Open(ctx, path, settings, map[string]string{"Input": "https://alice:SECRET-run@example.com/list"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs, meta string
	db.QueryRow("SELECT group_concat(settings) FROM runs").Scan(&runs)
	db.QueryRow("SELECT value FROM meta WHERE key = 'settings'").Scan(&meta)
	if strings.Contains(runs, "SECRET") || !strings.Contains(runs, "alice:xxxxx@example.com") {
		t.Errorf("runs settings: %s", runs)
	}
	if strings.Contains(meta, "SECRET") || !strings.Contains(meta, "http://u:hmac-sha256:") {
		t.Errorf("meta settings: %s", meta)
	}
}
