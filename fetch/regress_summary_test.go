package fetch

import (
	"bytes"
	"strings"
	"testing"
)

// Input-derived strings the summary prints (hosts, the input note) show
// control characters escaped, never raw: a host name holding ESC must not
// drive the terminal. Hosts of bad_input records, never contacted, are
// left out of the host statistics.
func TestSummaryEscapesInputStrings(t *testing.T) {
	s := NewStats()
	for range 3 {
		s.Add(Record{URL: "http://ho\x1b[2Jst/", MS: 5, Attempts: 1, Error: &Error{Kind: KindConnect}})
		s.Add(Record{URL: "http://slow\x07:1/", MS: 50, Attempts: 1, Status: 200})
		s.Add(Record{URL: "http://never\x1b]0;x\x07:2/", Error: &Error{Kind: KindBadInput}})
	}
	s.NoteInput("the input ended early at line 2: \x1b[31mred\r")
	sum := s.Summary()
	for _, h := range append(sum.Slowest, sum.MostFailed...) {
		if strings.HasPrefix(h.Host, "never") {
			t.Errorf("a bad_input host in the host statistics: %+v", h)
		}
	}
	var b bytes.Buffer
	sum.WriteText(&b)
	text := b.String()
	if strings.ContainsAny(text, "\x1b\x07\r") {
		t.Errorf("raw control characters in the summary: %q", text)
	}
	for _, want := range []string{`ho\x1b[2Jst`, `slow\a:1`, `\x1b[31mred\r`} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

// The one-by-one line shows one decimal below 10x, and is left out when
// the wall time is about 0; an empty run says "no records" rather than
// empty figures.
func TestSummarySpeedupAndEmpty(t *testing.T) {
	s := NewStats()
	s.Add(Record{URL: "http://h/x", MS: 1200, Status: 200, Attempts: 1})
	sum := s.Summary()
	sum.Seconds = 1
	var b bytes.Buffer
	sum.WriteText(&b)
	if !strings.Contains(b.String(), "(1.2x faster)") {
		t.Errorf("want 1.2x:\n%s", b.String())
	}
	sum.Seconds = 0.0001
	b.Reset()
	sum.WriteText(&b)
	if strings.Contains(b.String(), "one by one") {
		t.Errorf("a one-by-one line for a wall time of about 0:\n%s", b.String())
	}
	b.Reset()
	NewStats().Summary().WriteText(&b)
	text := b.String()
	if !strings.Contains(text, "no records") || strings.Contains(text, "p50") || strings.Contains(text, "status:") || strings.Contains(text, "one by one") {
		t.Errorf("an empty summary:\n%s", text)
	}
}
