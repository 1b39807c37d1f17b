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
	f.Add("\ufeffhttp://a/\n# comment\n  # indented\n\n\t\n")
	f.Add("\ufeff")
	f.Add("\ufeff\ufeff\n")
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for l := range Lines(strings.NewReader(s)) {
			if l.Num == 1 && strings.HasPrefix(s, bom) && strings.HasPrefix(l.Text, bom) && !strings.HasPrefix(s, bom+bom) {
				t.Fatalf("line 1 keeps the byte order mark: %q", l.Text)
			}
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

// A UTF-8 byte order mark at the start of the input is not part of line 1
// (editors on Windows write one), but its bytes are counted in the offsets;
// elsewhere it is text.
func TestLinesByteOrderMark(t *testing.T) {
	got := collect(strings.NewReader("\ufeffhttp://a/1\n\ufeffb\n"))
	if len(got) != 2 || got[0].Text != "http://a/1" || got[1].Text != "\ufeffb" {
		t.Fatalf("got %+v", got)
	}
	if got[0].End != (Pos{Line: 1, Offset: 14}) {
		t.Fatalf("line 1 ends at %+v, want {1 14}: the mark's 3 bytes count", got[0].End)
	}
	if got := collect(strings.NewReader("\ufeff")); len(got) != 1 || got[0].Text != "" || got[0].End.Offset != 3 {
		t.Fatalf("a mark alone: %+v", got)
	}
	// The mark does not count against MaxLine.
	long := strings.Repeat("x", MaxLine)
	if got := collect(strings.NewReader("\ufeff" + long + "\r\n")); len(got) != 1 || got[0].Err != nil || got[0].Text != long {
		t.Fatalf("a mark and a line of MaxLine bytes: %d lines, err %v", len(got), got[0].Err)
	}
	// Resumed past the start, a mark is the line's text.
	var l []Line
	for x := range LinesFrom(strings.NewReader("\ufeffx\n"), Pos{Line: 3, Offset: 10}) {
		l = append(l, x)
	}
	if len(l) != 1 || l[0].Text != "\ufeffx" || l[0].Num != 4 {
		t.Fatalf("resumed: %+v", l)
	}
}
