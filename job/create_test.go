package job

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A new job path in a directory that does not exist is one clear error
// naming the job, not the temporary file it would be made under.
func TestCreateInAMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "j.db")
	_, err := Open(context.Background(), path, testSettings, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), tempInfix) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}
