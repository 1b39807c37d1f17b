// Package human formats numbers for people: the summary of gather fetch
// and the report of a job say sizes the same way.
package human

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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

// ParseSize reads a size in bytes as a person writes it: a plain integer
// ("1048576"), or a number with a unit, decimal (k, KB, M, MB, G, GB: powers
// of 1000) or binary (Ki, KiB, Mi, MiB, Gi, GiB: powers of 1024), in any
// case, with an optional space and an optional trailing "B" or "b"
// ("512k", "10MB", "10 MiB", "1.5GiB"). Negative sizes, fractions of a byte
// and sizes above 1<<62 are errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: empty", s)
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" && strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("size %q: must not be negative", s)
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: not a number (want e.g. 512k, 10MB, 10MiB)", s)
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, k/KB, M/MB, G/GB, Ki/KiB, Mi/MiB, Gi/GiB)", s, t[i:])
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > maxSize/mult {
			return 0, fmt.Errorf("size %q: too large (at most 4 EiB)", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: not a number", s)
	}
	v := f * float64(mult)
	if v > float64(maxSize) {
		return 0, fmt.Errorf("size %q: too large (at most 4 EiB)", s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("size %q: not a whole number of bytes", s)
	}
	return int64(v), nil
}

const maxSize = 1 << 62

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1000, "kb": 1000, "m": 1000 * 1000, "mb": 1000 * 1000, "g": 1000 * 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
}
