//go:build !unix

package main

// openFilesNote is Unix-only (the open-files limit of getrlimit): on other
// systems there is no note.
func openFilesNote(int) string { return "" }
