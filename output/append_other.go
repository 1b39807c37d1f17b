//go:build !unix

package output

import "io"

// appending cannot tell here whether w is a file opened for appending.
func appending(io.Writer) (appendOnly, known bool) { return false, false }
