// Package suggest finds the word a user probably meant, for the "did you
// mean" of an unknown key or name.
package suggest

import (
	"fmt"
	"strings"
)

// Closest returns ` (did you mean "x"?)` for the candidate closest to s
// by edit distance, or one that s cuts short or runs on from (retry for
// retries), when one is close enough; "" otherwise.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := distance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || (d == bestD && best != "" && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" || bestD >= max(len(s), len(best)) {
		best = ""
		// A word cut short or run on: retry for retries, needs for need.
		for _, c := range candidates {
			ls, lc := strings.ToLower(s), strings.ToLower(c)
			if len(s) >= 3 && (strings.HasPrefix(lc, ls[:len(ls)-1]) || strings.HasPrefix(ls, lc)) && (best == "" || c < best) {
				best = c
			}
		}
		if best == "" {
			return ""
		}
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
