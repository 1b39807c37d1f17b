package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gogather/gather/internal/human"
)

// WriteText writes the report for a person at a terminal: a few lines of
// progress and outcomes, then the tables.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	if r.Job != "" {
		p("job %s", r.Job)
		if r.Created != "" {
			p(", created %s", r.Created)
		}
		p("\n")
	}
	if len(r.Runs) > 0 {
		p("runs: %s\n", r.runsText())
	}
	if frac, known := r.Progress(); known {
		p("progress: %s of %s inputs stored (%s)\n", commas(r.Stored), commas(*r.Total), percent(frac))
	} else {
		p("progress: %s results stored; total unknown: the input was not read to its end yet\n", commas(r.Stored))
	}
	if r.Stored == 0 {
		return bw.Flush()
	}
	p("outcomes: %s ok, %s failed (%s); %s read\n", commas(r.OK), commas(r.Failed),
		percent(float64(r.Failed)/float64(r.Stored)), human.Bytes(r.Bytes))
	p("status classes: %s\n", joinCounts(r.StatusClasses))
	p("status codes: %s\n", joinCounts(r.StatusCodes))
	if l := r.Latency; l.N > 0 {
		p("latency ms (%s requests): p50 %s  p90 %s  p99 %s  max %s  mean %s\n",
			commas(l.N), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))
	}
	p("retries: %s attempts beyond the first; %s earlier %s superseded by a later run\n",
		commas(r.Retries), commas(r.Superseded), plural(r.Superseded, "result", "results"))
	if t := r.Throughput; len(t.Buckets) > 0 {
		var peak float64
		for _, b := range t.Buckets {
			peak = max(peak, t.PerSecond(b))
		}
		span := t.Last.Sub(t.First)
		p("throughput: %s to %s (%s), per %s: mean %.1f/s, peak %.1f/s\n",
			t.First.Format(time.DateTime), t.Last.Format(timeOnly(t.First, t.Last)), span.Round(time.Second),
			duration(t.BucketSeconds), float64(r.Stored)/max(span.Seconds(), t.BucketSeconds), peak)
		p("  %s\n", sparkline(t))
	}

	table := func(title string, header []string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		p("\n%s\n", title)
		writeTable(bw, header, rows)
	}
	var kinds [][]string
	for _, k := range r.ErrorKinds {
		kinds = append(kinds, []string{k.Kind, commas(k.N), "line " + strconv.FormatInt(k.ExampleLine, 10) + ": " + clip(k.ExampleURL, 50) + "  " + clip(k.ExampleMessage, 60)})
	}
	// The example is left-aligned too: a table of two right-aligned
	// columns then the example.
	if len(kinds) > 0 {
		width := len("error kind")
		nw := len("failed")
		for _, k := range kinds {
			width = max(width, len(k[0]))
			nw = max(nw, len(k[1]))
		}
		p("\n%-*s  %*s  %s\n", width+2, "  error kind", nw, "failed", "first failure")
		for _, k := range kinds {
			p("  %-*s  %*s  %s\n", width, k[0], nw, k[1], sanitize(k[2]))
		}
	}
	hostRows := func(hosts []Host) [][]string {
		var rows [][]string
		for _, h := range hosts {
			rows = append(rows, []string{sanitize(h.Host), ms(h.MedianMS), commas(h.Results), commas(h.Failed), percent(h.FailureRatio)})
		}
		return rows
	}
	header := []string{"host", "median ms", "results", "failed", "failed %"}
	table("slowest hosts (by median latency)", header, hostRows(r.SlowestHosts))
	table("most failing hosts", header, hostRows(r.FailingHosts))
	return bw.Flush()
}

// writeTable writes rows under a header, indented, the first column
// aligned left and the others right.
func writeTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	all := append([][]string{header}, rows...)
	for _, row := range all {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range all {
		var line strings.Builder
		line.WriteString(" ")
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			line.WriteString(" ")
			if i == 0 {
				line.WriteString(cell + pad)
			} else {
				line.WriteString(" " + pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}

func (r *Report) runsText() string {
	var parts []string
	for _, run := range r.Runs {
		s := fmt.Sprintf("#%d %s, ", run.ID, run.Status)
		if run.Ended != nil {
			s += run.Started.Format(time.DateTime) + " to " + run.Ended.Format(timeOnly(run.Started, *run.Ended))
		} else if run.Status == "running" {
			s += "since " + run.Started.Format(time.DateTime)
		} else {
			// Marked by a later run: its process was killed, its end unknown.
			s += "from " + run.Started.Format(time.DateTime) + " UTC, killed"
			parts = append(parts, s)
			continue
		}
		parts = append(parts, s+" UTC")
	}
	return strings.Join(parts, "; ")
}

// timeOnly is the layout of a time after from: the time alone on the same
// day.
func timeOnly(from, t time.Time) string {
	if from.YearDay() == t.YearDay() && from.Year() == t.Year() {
		return time.TimeOnly
	}
	return time.DateTime
}

var blocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the throughput buckets as one line of block characters.
func sparkline(t Throughput) string {
	var peak int64
	for _, b := range t.Buckets {
		peak = max(peak, b.N)
	}
	var sb strings.Builder
	for _, b := range t.Buckets {
		switch {
		case b.N == 0:
			sb.WriteRune(' ')
		case peak > 0:
			sb.WriteRune(blocks[min(len(blocks)-1, int(float64(b.N)/float64(peak)*float64(len(blocks)-1)+0.5))])
		}
	}
	return sb.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinCounts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Key + " " + commas(c.N)
	}
	return strings.Join(parts, ", ")
}

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func percent(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// ms formats a latency: 0.1 ms resolution below 10 s, whole ms above.
func ms(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func duration(sec float64) string {
	switch {
	case sec >= 86400 && math.Mod(sec, 86400) == 0:
		return strconv.FormatFloat(sec/86400, 'f', 0, 64) + "d"
	case sec >= 3600 && math.Mod(sec, 3600) == 0:
		return strconv.FormatFloat(sec/3600, 'f', 0, 64) + "h"
	case sec >= 60 && math.Mod(sec, 60) == 0:
		return strconv.FormatFloat(sec/60, 'f', 0, 64) + "m"
	}
	return strconv.FormatFloat(sec, 'f', -1, 64) + "s"
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// sanitize replaces control characters (a terminal escape in a URL or a
// message from a server) with U+FFFD, so that data cannot drive the
// terminal.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, s)
}
