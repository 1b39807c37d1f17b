package jobfixture

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gogather/gather/fetch"
)

// Start is when a synthetic job's first run starts: 2026-01-05 09:00 UTC.
const Start = 1767603600.0

// A profile is how one synthetic host behaves.
type profile struct {
	host     string
	weight   float64 // share of the inputs, relative
	medianMS float64
	// fail picks a failure (or none) for a uniform u in [0, 1).
	fail func(u float64, h string) (status int, kind fetch.Kind, msg string, attempts int)
}

func ok(float64, string) (int, fetch.Kind, string, int) { return 200, "", "", 1 }

// usual is the failure mix of an ordinary site: a few 404s, rare 5xx and
// resets.
func usual(u float64, h string) (int, fetch.Kind, string, int) {
	switch {
	case u < 0.020:
		return 404, fetch.KindHTTPStatus, "404 Not Found", 1
	case u < 0.024:
		return 500, fetch.KindHTTPStatus, "500 Internal Server Error", 1
	case u < 0.026:
		return 0, fetch.KindReset, "read tcp: connection reset by peer", 3
	case u < 0.030:
		return 200, "", "", 2 // a 503 retried
	}
	return 200, "", "", 1
}

var profiles = []profile{
	{"www.example.com", 30, 48, usual},
	{"api.example.com", 22, 35, usual},
	{"cdn.example.net", 18, 12, ok},
	{"shop.example.org", 12, 120, usual},
	{"blog.example.io", 9, 85, usual},
	{"images.example.net:8443", 8, 30, ok},
	{"overloaded.example.com", 6, 420, func(u float64, h string) (int, fetch.Kind, string, int) {
		switch {
		case u < 0.18:
			return 503, fetch.KindHTTPStatus, "503 Service Unavailable", 3
		case u < 0.25:
			return 429, fetch.KindHTTPStatus, "429 Too Many Requests", 3
		case u < 0.45:
			return 200, "", "", 2
		}
		return 200, "", "", 1
	}},
	{"slow.example.net", 5, 2400, func(u float64, h string) (int, fetch.Kind, string, int) {
		switch {
		case u < 0.12:
			return 0, fetch.KindTimeoutTotal, "the attempt took longer than 30s", 3
		case u < 0.16:
			return 0, fetch.KindTimeoutHeaders, "no response headers within 10s", 3
		}
		return 200, "", "", 1
	}},
	{"dead.example.org", 3, 8, func(float64, string) (int, fetch.Kind, string, int) {
		return 0, fetch.KindDNS, "lookup dead.example.org: no such host", 3
	}},
	{"refused.example.io:8080", 2, 2, func(u float64, h string) (int, fetch.Kind, string, int) {
		if u < 0.9 {
			return 0, fetch.KindConnect, "dial tcp 203.0.113.7:8080: connect: connection refused", 3
		}
		return 0, fetch.KindCircuitOpen, "circuit open after 5 consecutive connection failures", 0
	}},
	{"legacy.example.com", 2, 650, func(u float64, h string) (int, fetch.Kind, string, int) {
		switch {
		case u < 0.10:
			return 0, fetch.KindTLS, "tls: failed to verify certificate: x509: certificate has expired", 1
		case u < 0.30:
			return 410, fetch.KindHTTPStatus, "410 Gone", 1
		}
		return 200, "", "", 1
	}},
}

func init() {
	// 29 more small ordinary hosts: 40 in all.
	for i := 1; i <= 29; i++ {
		profiles = append(profiles, profile{fmt.Sprintf("site%02d.example.com", i), 1 + float64(i%5)/2, 20 + float64(i*i%17)*15, usual})
	}
}

type generator struct {
	n, total int
	rng      *rand.Rand
	cum      []float64 // cumulative host weights
	perm     []int     // lines of the current block, shuffled
	t        float64   // the clock: the finished time of the last result
	split    int       // results before split are run 1's
	run1End  float64
	run2From float64
	rate     float64 // results per second, on average
}

func newGenerator(n int, seed uint64) *generator {
	g := &generator{n: n, total: n + n/25, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t: Start + 1.5}
	var sum float64
	for _, p := range profiles {
		sum += p.weight
		g.cum = append(g.cum, sum)
	}
	g.split = n * 7 / 10
	// About 400 results a second, in 2 to 40 minutes.
	g.rate = float64(n) / min(max(float64(n)/400, 120), 2400)
	return g
}

func (g *generator) runs() []Run {
	return []Run{
		{ID: 1, Started: Start, Ended: g.run1End + 0.4, Status: "interrupted"},
		{ID: 2, Started: g.run2From - 1.2, Status: "running"},
	}
}

// rateAt is the storing rate at fraction x of the results: a ramp up, a
// slow wave, and a stretch where an upstream throttled the run.
func (g *generator) rateAt(x float64) float64 {
	r := g.rate * (1 + 0.25*math.Sin(x*6*math.Pi))
	if x < 0.03 {
		r *= 0.3 + x/0.03*0.7
	}
	if x > 0.42 && x < 0.5 {
		r *= 0.35
	}
	return r
}

func (g *generator) host() profile {
	u := g.rng.Float64() * g.cum[len(g.cum)-1]
	for i, c := range g.cum {
		if u < c {
			return profiles[i]
		}
	}
	return profiles[len(profiles)-1]
}

// results returns the results stored from index from to index to, and the
// history rows of those that the second run replaced.
func (g *generator) results(from, to int) (rs, hs []Result) {
	for i := from; i < to; i++ {
		if i%64 == 0 {
			size := min(64, g.n-i)
			g.perm = g.rng.Perm(size)
		}
		line := i - i%64 + g.perm[i%64] + 1
		run := 1
		if i == g.split {
			g.run1End = g.t
			g.t += 95 // the run was interrupted; the next one started later
			g.run2From = g.t
		}
		if i >= g.split {
			run = 2
		}
		g.t += g.rng.ExpFloat64() / g.rateAt(float64(i)/float64(g.n))
		r := g.result(line, run)
		rs = append(rs, r)
		if run == 2 && r.Kind == "" && g.rng.Float64() < 0.02 {
			// --retry-failed: run 2 replaced a failure of run 1.
			old := r
			old.Run, old.Status, old.Kind, old.Message, old.Attempts = 1, 503, fetch.KindHTTPStatus, "503 Service Unavailable", 3
			old.MS = r.MS + 700
			old.Finished = Start + 2 + g.rng.Float64()*(g.run1End-Start-2)
			hs = append(hs, old)
		}
	}
	if to == g.n && g.run1End == 0 {
		g.run1End, g.run2From = g.t, g.t+1
	}
	return rs, hs
}

func (g *generator) result(line, run int) Result {
	r := Result{Line: line, Run: run, Finished: math.Round(g.t*1000) / 1000}
	if g.rng.Float64() < 0.003 {
		r.URL = fmt.Sprintf("ftp://files.example.com/pub/%d.tar.gz", line)
		r.Kind, r.Message = fetch.KindBadInput, "not an http(s) URL"
		return r
	}
	p := g.host()
	r.URL = fmt.Sprintf("https://%s/items/%d?page=%d", p.host, line, line%7)
	r.Status, r.Kind, r.Message, r.Attempts = p.fail(g.rng.Float64(), p.host)
	ms := p.medianMS * math.Exp(0.55*g.rng.NormFloat64())
	switch r.Kind {
	case fetch.KindTimeoutTotal:
		ms = 30000 + g.rng.Float64()*50
	case fetch.KindTimeoutHeaders:
		ms = 10000 + g.rng.Float64()*50
	case fetch.KindCircuitOpen:
		ms = 0
	}
	if r.Attempts > 1 {
		ms *= float64(r.Attempts)
		ms += 100 * float64(r.Attempts*(r.Attempts-1)/2) * (1 + g.rng.Float64()) // back-off
	}
	r.MS = math.Round(ms*1000) / 1000
	if r.Status != 0 {
		r.Bytes = int64(2000 + g.rng.IntN(60000))
	}
	return r
}
