//go:build unix

package job

import "os"

// syncDir syncs a directory, so that a file just linked into it stays
// there after a power loss.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
