package job

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// The library packages job and report build for Linux, macOS and Windows
// (the job's lock is flock on Unix, LockFileEx on Windows).
func TestBuildsForEverySystem(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles: slow the first time")
	}
	goTool := runtime.GOROOT() + "/bin/go"
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command(goTool, "build", "../job/", "../report/")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s go build ./job/ ./report/: %v\n%s", goos, err, out)
		}
	}
}
