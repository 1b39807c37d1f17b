//go:build !unix

package job

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
