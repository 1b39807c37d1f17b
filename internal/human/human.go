// Package human formats numbers for people: the summary of gather fetch
// and the report of a job say sizes the same way.
package human

import "fmt"

// Bytes formats a size in bytes with one decimal in KiB, MiB or GiB, or in
// bytes below 1 KiB: "512 B", "4.9 MiB".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
