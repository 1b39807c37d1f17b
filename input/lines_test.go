package input

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func collect(r io.Reader) []Line {
	var out []Line
	for l := range Lines(r) {
		out = append(out, l)
	}
	return out
}

func TestLines(t *testing.T) {
	got := collect(strings.NewReader("a\r\nb\n\nlast"))
	want := []string{"a", "b", "", "last"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines: %+v", len(got), got)
	}
	for i, l := range got {
		if l.Num != i+1 || l.Text != want[i] || l.Err != nil {
			t.Fatalf("line %d = %+v, want %q", i+1, l, want[i])
		}
	}
	if n := len(collect(strings.NewReader(""))); n != 0 {
		t.Fatalf("empty input gave %d lines", n)
	}
}

func TestLinesTooLong(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	got := collect(strings.NewReader("ok\n" + long + "\nafter\n" + long))
	if len(got) != 4 {
		t.Fatalf("got %d lines", len(got))
	}
	if got[1].Err == nil || got[1].Num != 2 || !strings.Contains(got[1].Err.Error(), "line 2") {
		t.Fatalf("long line = %+v", got[1])
	}
	if got[2].Text != "after" || got[2].Num != 3 {
		t.Fatalf("the line after a long one = %+v", got[2])
	}
	if got[3].Err == nil || got[3].Num != 4 {
		t.Fatalf("a long last line without newline = %+v", got[3])
	}
}

func TestLinesReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	got := collect(io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)))
	if len(got) != 3 || !errors.Is(got[2].Err, boom) || got[2].Num != 3 {
		t.Fatalf("got %+v", got)
	}
}

func TestLinesStopEarly(t *testing.T) {
	n := 0
	for range Lines(strings.NewReader("1\n2\n3\n")) {
		n++
		break
	}
	if n != 1 {
		t.Fatal(n)
	}
}

func FuzzLines(f *testing.F) {
	f.Add("a\nb\r\nc")
	f.Add("\n\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for l := range Lines(strings.NewReader(s)) {
			if l.Num != prev+1 {
				t.Fatalf("line numbers jump from %d to %d", prev, l.Num)
			}
			prev = l.Num
			if strings.ContainsAny(l.Text, "\n") {
				t.Fatalf("line %d holds a newline: %q", l.Num, l.Text)
			}
		}
		if want := strings.Count(strings.TrimSuffix(s, "\n"), "\n") + 1; s != "" && prev != want {
			t.Fatalf("%d lines, want %d", prev, want)
		}
	})
}
