package job

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// An input whose last line had no newline, then had text appended to that
// line: the line changed, so its stored result is replaced (the old one
// kept in history) by running it again. Appending only the newline, or
// whole lines after it, changes nothing stored.
func TestAppendToUnterminatedLastLineRunsItAgain(t *testing.T) {
	for _, c := range []struct {
		name, appended string
		again          []int
	}{
		{"text appended to the last line", "xyz\nhttp://h/4\n", []int{3, 4}},
		{"text appended, still unterminated", "xyz", []int{3}},
		{"its newline appended", "\n", nil},
		{"its newline and a line appended", "\r\nhttp://h/4\n", []int{4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "j.db")
			file := filepath.Join(dir, "in.txt")
			os.WriteFile(file, []byte("http://h/1\nhttp://h/2\nhttp://h/3"), 0o644)
			var urls map[int]string
			result := func(line int) testRecord {
				r := okResult(line)
				r.URL = urls[line]
				return r
			}
			readURLs := func() {
				b, _ := os.ReadFile(file)
				urls = map[int]string{}
				for i, l := range splitLines(string(b)) {
					urls[i+1] = l
				}
			}
			readURLs()
			if got := runLines(t, path, file, nil, 0, result); !slices.Equal(got, []int{1, 2, 3}) {
				t.Fatalf("first run took %v", got)
			}
			f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(c.appended)
			f.Close()
			readURLs()
			if got := runLines(t, path, file, nil, 0, result); !slices.Equal(got, c.again) {
				t.Fatalf("after appending %q, the run took %v, want %v", c.appended, got, c.again)
			}
			// The stored results are those of the input as it is now.
			db, err := openReadOnly(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for line, u := range urls {
				var got string
				db.QueryRow("SELECT url FROM results WHERE line = ?", line).Scan(&got)
				if got != u {
					t.Errorf("line %d: stored %q, the input has %q", line, got, u)
				}
			}
			// A third run takes nothing.
			if got := runLines(t, path, file, nil, 0, result); len(got) != 0 {
				t.Errorf("a third run took %v", got)
			}
		})
	}
}

// splitLines splits s into lines without their terminators, the last one
// kept when unterminated.
func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		l := s[:i]
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		out = append(out, l)
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}
