//go:build windows

package job

// syncDir does nothing on Windows, where a directory cannot be opened to
// be synced: NTFS journals its metadata.
func syncDir(dir string) {}
