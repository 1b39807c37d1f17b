package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/gogather/gather/internal/human"
)

// WriteHTML writes the report as one self-contained HTML page: inline
// styles, charts drawn here as inline SVG (the latency histogram,
// throughput over time, outcomes of the busiest hosts), the tables, and
// nothing else: no script, no font, no image, nothing fetched. Everything
// that comes from the job (URLs, hosts, messages) is escaped by
// html/template.
func (r *Report) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := pageTemplate.Execute(bw, newPage(r)); err != nil {
		return err
	}
	return bw.Flush()
}

// page is what the template shows.
type page struct {
	*Report
	Title           string
	Tiles           []tile
	ProgressChart   chart
	LatencyChart    chart
	ThroughputChart chart
	HostsChart      chart
	RunsText        string
	Bucket          string
}

// ToGo is the number of inputs without a result yet (0 when the total is
// not known).
func (p page) ToGo() int64 {
	if p.Total == nil {
		return 0
	}
	return max(0, *p.Total-p.Stored)
}

type tile struct {
	Label, Value, Note, Class string
}

// A chart is an SVG drawing of rectangles, lines and text, laid out in Go
// so that the template only places them.
type chart struct {
	Label string // for screen readers
	W, H  float64
	Rects []rect
	Lines []line
	Texts []text
}

type rect struct {
	X, Y, W, H float64
	Class, Tip string
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type text struct {
	X, Y          float64
	Anchor, Class string
	S             string
}

func (c *chart) rect(x, y, w, h float64, class, tip string) {
	c.Rects = append(c.Rects, rect{r1(x), r1(y), r1(w), r1(h), class, tip})
}

func (c *chart) line(x1, y1, x2, y2 float64, class string) {
	c.Lines = append(c.Lines, line{r1(x1), r1(y1), r1(x2), r1(y2), class})
}

func (c *chart) text(x, y float64, anchor, class, s string) {
	c.Texts = append(c.Texts, text{r1(x), r1(y), anchor, class, s})
}

func r1(f float64) float64 { return math.Round(f*10) / 10 }

func newPage(r *Report) page {
	p := page{Report: r, Title: "gather report"}
	if r.Job != "" {
		p.Title += ": " + r.Job
	}
	if len(r.Runs) > 0 {
		p.RunsText = r.runsText()
	}
	p.Bucket = duration(r.Throughput.BucketSeconds)
	p.Tiles = r.tiles()
	p.ProgressChart = r.progressChart()
	p.LatencyChart = r.latencyChart()
	p.ThroughputChart = r.throughputChart()
	p.HostsChart = r.hostsChart()
	return p
}

func (r *Report) tiles() []tile {
	var ts []tile
	if frac, known := r.Progress(); known {
		ts = append(ts, tile{"progress", percent(frac), commas(r.Stored) + " of " + commas(*r.Total) + " inputs", ""})
	} else {
		ts = append(ts, tile{"stored", commas(r.Stored), "total unknown: the input was not read to its end yet", ""})
	}
	failedShare := 0.0
	if r.Stored > 0 {
		failedShare = float64(r.Failed) / float64(r.Stored)
	}
	ts = append(ts,
		tile{"ok", commas(r.OK), "", "ok"},
		tile{"failed", commas(r.Failed), percent(failedShare) + " of the results", "failed"},
		tile{"latency p50", msShort(r.Latency.P50) + " ms", "p90 " + msShort(r.Latency.P90) + " ms", ""},
		tile{"latency p99", msShort(r.Latency.P99) + " ms", "max " + msShort(r.Latency.Max) + " ms", ""},
		tile{"retries", commas(r.Retries), commas(r.Superseded) + " results superseded", ""},
		tile{"read", human.Bytes(r.Bytes), "", ""},
	)
	return ts
}

// msShort formats a latency for a tile: whole ms from 100 ms up.
func msShort(v float64) string {
	if v >= 100 {
		return commas(int64(math.Round(v)))
	}
	return ms(v)
}

// The charts' geometry, in SVG user units (the SVG scales to the page).
const (
	chartW  = 1000.0
	padL    = 64.0 // room for the y axis labels
	padR    = 16.0
	padT    = 14.0
	padB    = 44.0 // room for the x axis labels
	plotH   = 220.0
	barGap  = 2.0
	hostRow = 28.0
)

func (r *Report) progressChart() chart {
	c := chart{Label: "progress", W: chartW, H: 26}
	frac, known := r.Progress()
	if !known {
		return chart{}
	}
	frac = min(frac, 1)
	okW := 0.0
	if r.Stored > 0 {
		okW = chartW * frac * float64(r.OK) / float64(r.Stored)
	}
	c.rect(0, 0, chartW, 26, "todo", commas(*r.Total-r.Stored)+" inputs to go")
	c.rect(0, 0, okW, 26, "ok", commas(r.OK)+" ok")
	c.rect(okW, 0, chartW*frac-okW, 26, "failed", commas(r.Failed)+" failed")
	return c
}

// niceTicks returns the steps of an axis from 0 to at least top: 1, 2 or
// 5 times a power of ten, 3 to 6 of them.
func niceTicks(top float64) (step float64, n int) {
	if top <= 0 {
		return 1, 1
	}
	mag := math.Pow10(int(math.Floor(math.Log10(top / 5))))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if top/step <= 5 {
			break
		}
	}
	return step, int(math.Ceil(top/step - 1e-9))
}

// yAxis draws the horizontal grid lines and their labels, and returns the
// scale: plot units per value.
func (c *chart) yAxis(top float64, format func(float64) string) float64 {
	step, n := niceTicks(top)
	scale := plotH / (step * float64(n))
	for i := 0; i <= n; i++ {
		y := padT + plotH - float64(i)*step*scale
		class := "grid"
		if i == 0 {
			class = "axis"
		}
		c.line(padL, y, chartW-padR, y, class)
		c.text(padL-6, y+4, "end", "", format(float64(i)*step))
	}
	return scale
}

func countLabel(v float64) string { return commas(int64(math.Round(v))) }

func rateLabel(v float64) string {
	if v < 10 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return commas(int64(math.Round(v)))
}

// msLabel names a latency bucket boundary: 500µs, 20ms, 2s.
func msLabel(v float64) string {
	switch {
	case v < 1:
		return strconv.FormatFloat(v*1000, 'f', -1, 64) + "µs"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(v/1000, 'f', -1, 64) + "s"
}

func (r *Report) latencyChart() chart {
	c := chart{Label: "latency histogram", W: chartW, H: padT + plotH + padB}
	hist := r.LatencyHistogram
	if len(hist) == 0 {
		return chart{}
	}
	var top int64
	for _, b := range hist {
		top = max(top, b.N)
	}
	scale := c.yAxis(float64(top), countLabel)
	slot := (chartW - padL - padR) / float64(len(hist))
	base := padT + plotH
	for i, b := range hist {
		x := padL + float64(i)*slot
		h := float64(b.N) * scale
		tip := fmt.Sprintf("%s to %s: %s requests (%s)", msLabel(b.LowMS), msLabel(b.HighMS), commas(b.N), percent(float64(b.N)/float64(max(r.Latency.N, 1))))
		c.rect(x+barGap/2, base-h, slot-barGap, h, "bar", tip)
		c.line(x, base, x, base+5, "axis")
		c.text(x, base+18, "middle", "", msLabel(b.LowMS))
	}
	end := padL + float64(len(hist))*slot
	c.line(end, base, end, base+5, "axis")
	c.text(end, base+18, "middle", "", msLabel(hist[len(hist)-1].HighMS))
	c.text(padL+(chartW-padL-padR)/2, base+38, "middle", "caption", "latency (log scale: 1, 2, 5 per decade)")
	return c
}

func (r *Report) throughputChart() chart {
	t := r.Throughput
	if len(t.Buckets) == 0 {
		return chart{}
	}
	c := chart{Label: "throughput over time", W: chartW, H: padT + plotH + padB}
	var top float64
	for _, b := range t.Buckets {
		top = max(top, t.PerSecond(b))
	}
	scale := c.yAxis(top, rateLabel)
	slot := (chartW - padL - padR) / float64(len(t.Buckets))
	base := padT + plotH
	layout := "15:04"
	switch {
	case t.BucketSeconds < 60:
		layout = "15:04:05"
	case t.Last.Sub(t.First) > 24*time.Hour:
		layout = "Jan 2 15:04"
	}
	every := max(1, int(math.Ceil(float64(len(t.Buckets))/10)))
	gap := min(barGap, slot/4)
	for i, b := range t.Buckets {
		x := padL + float64(i)*slot
		okH := float64(b.N-b.Failed) / t.BucketSeconds * scale
		failH := float64(b.Failed) / t.BucketSeconds * scale
		tip := fmt.Sprintf("%s UTC, %s: %s results (%s/s), %s failed", b.Start.Format(time.DateTime), duration(t.BucketSeconds),
			commas(b.N), rateLabel(t.PerSecond(b)), commas(b.Failed))
		c.rect(x+gap/2, base-okH, slot-gap, okH, "ok", tip)
		c.rect(x+gap/2, base-okH-failH, slot-gap, failH, "failed", tip)
		if i%every == 0 {
			c.line(x, base, x, base+5, "axis")
			c.text(x, base+18, "middle", "", b.Start.Format(layout))
		}
	}
	c.text(padL+(chartW-padL-padR)/2, base+38, "middle", "caption",
		"results stored per second, in buckets of "+duration(t.BucketSeconds)+" (UTC)")
	return c
}

func (r *Report) hostsChart() chart {
	hosts := r.BusiestHosts
	if len(hosts) == 0 {
		return chart{}
	}
	const labelW, numW = 250.0, 190.0
	c := chart{Label: "outcomes by host", W: chartW, H: float64(len(hosts))*hostRow + 8}
	var top int64
	for _, h := range hosts {
		top = max(top, h.Results)
	}
	scale := (chartW - labelW - numW - 16) / float64(top)
	for i, h := range hosts {
		y := float64(i)*hostRow + 4
		okW := float64(h.Results-h.Failed) * scale
		failW := float64(h.Failed) * scale
		tip := fmt.Sprintf("%s: %s results, %s ok, %s failed (%s)", h.Host, commas(h.Results), commas(h.Results-h.Failed), commas(h.Failed), percent(h.FailureRatio))
		c.text(labelW-8, y+hostRow/2+1, "end", "", clip(h.Host, 34))
		c.rect(labelW, y+4, okW, hostRow-8, "ok", tip)
		c.rect(labelW+okW, y+4, failW, hostRow-8, "failed", tip)
		c.text(labelW+okW+failW+8, y+hostRow/2+1, "start", "", commas(h.Results)+" ("+percent(h.FailureRatio)+" failed)")
	}
	return c
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"commas":  commas,
	"percent": percent,
	"ms":      ms,
	"clip":    clip,
	"time":    func(t time.Time) string { return t.Format(time.DateTime) },
	"share": func(n, of int64) string {
		if of == 0 {
			return "0%"
		}
		return percent(float64(n) / float64(of))
	},
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2330;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:4px 0 2px;word-break:break-all}
h2{font-size:16px;margin:0 0 10px}
.sub{color:#5b6472;margin:0 0 14px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:16px 20px;margin:14px 0}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin:14px 0}
.tile{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px}
.tile .l{color:#5b6472;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.tile .x{color:#5b6472;font-size:12px}
.tile.ok .v{color:#2f7d4a}.tile.failed .v{color:#b83b36}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.cols section{margin:0}
table{border-collapse:collapse;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #edf0f3;text-align:left;vertical-align:top}
th{color:#5b6472;font-weight:600;font-size:12px}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.host{word-break:break-all}
.wrap{word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.none{color:#5b6472}
svg{display:block;width:100%;height:auto}
svg text{font-size:12px;fill:#3c4450;font-family:inherit}
svg text.caption{fill:#5b6472}
.bar{fill:#4a78c2}.ok{fill:#45a165}.failed{fill:#d9534f}.todo{fill:#e3e7ec}
.grid{stroke:#e6e9ed;stroke-width:1}.axis{stroke:#9aa2ad;stroke-width:1}
.legend span{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px;vertical-align:-1px}
.legend .ok{background:#45a165}.legend .failed{background:#d9534f}.legend .todo{background:#e3e7ec}
.legend span:first-child{margin-left:0}
footer{color:#7a8290;font-size:12px;margin-top:20px}
@media (max-width:760px){.cols{grid-template-columns:1fr}}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="sub">{{if .Created}}created {{.Created}}{{end}}{{if .RunsText}} · runs: {{.RunsText}}{{end}}</p>
{{if .ProgressChart.W}}{{template "chart" .ProgressChart}}
<p class="sub legend"><span class="ok"></span>{{commas .OK}} ok<span class="failed"></span>{{commas .Failed}} failed<span class="todo"></span>{{commas .ToGo}} to go</p>{{else}}<p class="sub">{{commas .Stored}} results stored; total unknown: the input was not read to its end yet</p>{{end}}
<div class="tiles">{{range .Tiles}}
<div class="tile {{.Class}}"><div class="l">{{.Label}}</div><div class="v">{{.Value}}</div><div class="x">{{.Note}}</div></div>{{end}}
</div>
{{if .Stored}}
<section>
<h2>Throughput over time</h2>
<div class="legend"><span class="ok"></span>ok<span class="failed"></span>failed</div>
{{template "chart" .ThroughputChart}}
</section>
<section>
<h2>Latency</h2>
<p class="sub">{{commas .Latency.N}} results that sent a request: p50 {{ms .Latency.P50}} ms · p90 {{ms .Latency.P90}} ms · p99 {{ms .Latency.P99}} ms · max {{ms .Latency.Max}} ms · mean {{ms .Latency.Mean}} ms</p>
{{template "chart" .LatencyChart}}
</section>
<section>
<h2>Outcomes by host</h2>
<p class="sub">the {{len .BusiestHosts}} hosts with the most results</p>
{{template "chart" .HostsChart}}
</section>
<div class="cols">
<section>
<h2>Status classes</h2>
<table><tr><th>class</th><th class="n">results</th><th class="n">share</th></tr>
{{range .StatusClasses}}<tr><td>{{.Key}}</td><td class="n">{{commas .N}}</td><td class="n">{{share .N $.Stored}}</td></tr>
{{end}}</table>
</section>
<section>
<h2>Status codes</h2>
<table><tr><th>status</th><th class="n">results</th><th class="n">share</th></tr>
{{range .StatusCodes}}<tr><td>{{if eq .Key "0"}}0 <span class="none">(no response)</span>{{else}}{{.Key}}{{end}}</td><td class="n">{{commas .N}}</td><td class="n">{{share .N $.Stored}}</td></tr>
{{end}}</table>
</section>
</div>
{{if .ErrorKinds}}<section>
<h2>Errors by kind</h2>
<table><tr><th>kind</th><th class="n">failed</th><th class="n">share</th><th>first failure (line, URL, message)</th></tr>
{{range .ErrorKinds}}<tr><td>{{.Kind}}</td><td class="n">{{commas .N}}</td><td class="n">{{share .N $.Stored}}</td><td class="wrap">{{.ExampleLine}}: {{clip .ExampleURL 200}}<br>{{clip .ExampleMessage 300}}</td></tr>
{{end}}</table>
</section>{{end}}
<div class="cols">
<section>
<h2>Slowest hosts</h2>
{{template "hosts" .SlowestHosts}}
</section>
<section>
<h2>Most failing hosts</h2>
{{if .FailingHosts}}{{template "hosts" .FailingHosts}}{{else}}<p class="sub">no failures</p>{{end}}
</section>
</div>
<section>
<h2>Retries</h2>
<p>{{commas .Retries}} attempts beyond the first over the results stored; {{commas .Superseded}} earlier results superseded by a later run (--retry-failed).</p>
</section>
{{end}}
{{if .Runs}}<section>
<h2>Runs</h2>
<table><tr><th>run</th><th>status</th><th>started (UTC)</th><th>ended (UTC)</th></tr>
{{range .Runs}}<tr><td>{{.ID}}</td><td>{{.Status}}</td><td>{{time .Started}}</td><td>{{with .Ended}}{{time .}}{{else}}<span class="none">not ended</span>{{end}}</td></tr>
{{end}}</table>
</section>{{end}}
<footer>written by gather report{{if .Throughput.Buckets}}; results from {{time .Throughput.First}} to {{time .Throughput.Last}} UTC{{end}}</footer>
</main>
</body>
</html>
{{define "chart"}}<svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}">
{{range .Lines}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" class="{{.Class}}"/>
{{end}}{{range .Rects}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="{{.Class}}"><title>{{.Tip}}</title></rect>
{{end}}{{range .Texts}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}"{{if .Class}} class="{{.Class}}"{{end}}>{{.S}}</text>
{{end}}</svg>{{end}}
{{define "hosts"}}<table><tr><th>host</th><th class="n">median ms</th><th class="n">results</th><th class="n">failed</th><th class="n">failed %</th></tr>
{{range .}}<tr><td class="host">{{.Host}}</td><td class="n">{{ms .MedianMS}}</td><td class="n">{{commas .Results}}</td><td class="n">{{commas .Failed}}</td><td class="n">{{percent .FailureRatio}}</td></tr>
{{end}}</table>{{end}}
`
