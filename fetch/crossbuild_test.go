package fetch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The package builds for the systems gather supports, not only the one
// testing it: nothing Unix-only without a build tag.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds are slow in -short mode")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command(goTool, "build", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s go build: %v\n%s", goos, err, out)
		}
	}
}
