package serve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/internal/yamlcheck"
	"github.com/gogather/gather/template"
	"go.yaml.in/yaml/v3"
)

// A Gateway is a parsed and validated gateway file.
type Gateway struct {
	File      string
	Listen    string   // host:port
	Upstreams []string // scheme://host[:port]: the only hosts the routes may reach
	Routes    []*Route
	Limits    Limits
}

// Limits are the gateway's limits beyond each route's.
type Limits struct {
	// MaxRequestBody bounds a request's body: beyond it, 413.
	MaxRequestBody int64
	// MaxResponseBody bounds each upstream answer a step reads.
	MaxResponseBody int64
	// Rate and Burst limit the requests of each client (by address, or
	// by the value of the header RateKey): beyond them, 429. Rate 0: no
	// limit.
	Rate    float64
	Burst   int
	RateKey string
	// Retries are the transient retries of an upstream call of an
	// idempotent method (0: none; a step's own retries are its own).
	Retries int
	// BreakAfter connection failures in a row open an upstream's circuit
	// for BreakCooldown (0: never).
	BreakAfter    int
	BreakCooldown time.Duration
}

// Default limits.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultConcurrency     = 256
	DefaultMaxRequestBody  = 1 << 20
	DefaultMaxResponseBody = 10 << 20
)

// A Route runs a flow for the requests of one method and path.
type Route struct {
	Method string
	// Path is the route's path, with {name} parameters (net/http's
	// ServeMux patterns).
	Path   string
	Params []string // the names of Path's parameters, in order
	Flow   *flow.Flow
	// FlowFile is the flow file's path, "" for a flow written inline.
	FlowFile string
	// Timeout bounds a request's flow: past it, 504.
	Timeout time.Duration
	// Concurrency bounds the requests of the route in flight: beyond
	// it, 503 at once.
	Concurrency int
	// Response, when not nil, builds the answer; nil answers 200 with the
	// flow's output as JSON.
	Response  *Response
	Line, Col int // where the route starts in the gateway file
}

// A Response says how a route answers: its strings may be expressions
// over {input, steps, output}.
type Response struct {
	Status  string            // an expression giving a number; "" is 200
	Headers map[string]string // templates
	Body    any               // a YAML value whose strings may be expressions; nil is the output
	HasBody bool
}

var (
	gatewayKeys  = []string{"listen", "upstreams", "routes", "limits"}
	routeKeys    = []string{"method", "path", "flow", "timeout", "concurrency", "response"}
	responseKeys = []string{"status", "headers", "body"}
	limitKeys    = []string{"max_request_body", "max_response_body", "rate", "burst", "rate_key", "retries", "break_after", "break_cooldown"}
	pathParam    = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)
)

// Load reads and parses the gateway file at path, and the flow files its
// routes name (relative to it). Its errors are flow.Errors (FILE:LINE:COL:
// message) or a file that cannot be read.
func Load(path string) (*Gateway, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, func(name string) (string, []byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(path), name)
		}
		data, err := readLimited(name)
		return name, data, err
	})
}

// MaxFileSize bounds a gateway or flow file: they are written by hand.
const MaxFileSize = 1 << 20

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes (1 MiB): not a gateway or flow file?", path, MaxFileSize)
	}
	return data, nil
}

// Parse parses and validates a gateway file's data; name names it in
// errors, and readFlow reads a flow file a route names, returning the
// path it read (which names the flow file's errors) and its data. It
// returns a valid gateway, or flow.Errors with every problem found (a
// flow file's own errors are named in that file).
func Parse(name string, data []byte, readFlow func(string) (string, []byte, error)) (*Gateway, error) {
	p := &gparser{file: name, data: data}
	p.Errorf = p.errorf
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := regexp.MustCompile(`^line (\d+): `).FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		return nil, flow.Errors{{File: name, Line: line, Col: 1, Msg: msg}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, flow.Errors{{File: name, Line: 1, Col: 1, Msg: `empty gateway: a gateway is a mapping with "listen", "upstreams" and "routes"`}}
	}
	g := p.gateway(doc.Content[0], readFlow)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			if a.File != b.File {
				return a.File == name // the gateway's own first
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return nil, p.errs
	}
	return g, nil
}

type gparser struct {
	yamlcheck.Checker
	file           string
	data           []byte
	errs           flow.Errors
	upstreamErrors bool // an entry of upstreams was refused
}

func (p *gparser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &flow.Error{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

func (p *gparser) gateway(root *yaml.Node, readFlow func(string) (string, []byte, error)) *Gateway {
	g := &Gateway{File: p.file, Limits: Limits{MaxRequestBody: DefaultMaxRequestBody, MaxResponseBody: DefaultMaxResponseBody}}
	keys, vals, ok := p.Mapping(root, "the gateway", gatewayKeys)
	if !ok {
		return g
	}
	var routes *yaml.Node
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "listen":
			if s, ok := p.Scalar(v, `"listen"`); ok {
				if _, _, err := net.SplitHostPort(s); err != nil {
					p.errorf(v, `"listen" must be host:port (127.0.0.1:8081, :8081), not %q`, s)
				}
				g.Listen = s
			}
		case "upstreams":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, `"upstreams" must be a list of scheme://host[:port], not %s`, yamlcheck.KindName(v))
				continue
			}
			for _, u := range v.Content {
				if s, ok := p.Scalar(u, "an upstream"); ok {
					if err := checkUpstream(s); err != nil {
						p.errorf(u, "upstream %q: %v", s, err)
						p.upstreamErrors = true
						continue
					}
					g.Upstreams = append(g.Upstreams, s)
				}
			}
		case "routes":
			routes = v
		case "limits":
			p.limits(v, &g.Limits)
		}
	}
	if g.Listen == "" {
		p.errorf(root, `the gateway has no "listen" (host:port)`)
	}
	if len(g.Upstreams) == 0 && !p.upstreamErrors {
		p.errorf(root, `the gateway has no "upstreams": list the scheme://host[:port] its routes may call`)
	}
	if routes == nil {
		p.errorf(root, `the gateway has no "routes"`)
		return g
	}
	if routes.Kind != yaml.SequenceNode || len(routes.Content) == 0 {
		p.errorf(routes, `"routes" must be a list of routes, not %s`, yamlcheck.KindName(routes))
		return g
	}
	mux := http.NewServeMux() // the patterns as the server will register them
	for _, p2 := range reservedPatterns {
		mux.Handle(p2, http.NotFoundHandler())
	}
	for _, rn := range routes.Content {
		r := p.route(rn, readFlow)
		if r == nil || r.Path == "" || checkPath(r.Path) != nil {
			continue
		}
		if slices.Contains(reservedPatterns, r.Path) {
			p.errorf(rn, "route %s %s: the path %s is the gateway's own (%s)", r.Method, r.Path, r.Path, strings.Join(reservedPatterns, ", "))
			continue
		}
		if err := register(mux, r.Method+" "+r.Path); err != nil {
			p.errorf(rn, "route %s %s: %v", r.Method, r.Path, err)
			continue
		}
		g.Routes = append(g.Routes, r)
	}
	return g
}

// registeredAt is where ServeMux says a pattern was registered: this
// package's source, nothing a user can act on.
var registeredAt = regexp.MustCompile(` \(registered at [^)]*\)`)

// reservedPatterns are the gateway's own endpoints, which no route may
// shadow.
var reservedPatterns = []string{"/healthz", "/readyz", "/metrics"}

// register registers pattern on mux, returning ServeMux's complaint (a
// pattern that conflicts with another, or that it cannot parse) as an
// error rather than a panic.
func register(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if i := strings.Index(msg, "pattern"); i >= 0 {
				msg = msg[i:]
			}
			msg = registeredAt.ReplaceAllString(msg, "")
			err = errors.New(strings.ReplaceAll(msg, "\n", " "))
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}

func (p *gparser) limits(n *yaml.Node, l *Limits) {
	keys, vals, ok := p.Mapping(n, `"limits"`, limitKeys)
	if !ok {
		return
	}
	for i, k := range keys {
		v, what := vals[i], fmt.Sprintf("%q of \"limits\"", k.Value)
		switch k.Value {
		case "max_request_body":
			l.MaxRequestBody = int64(p.Integer(v, what, 1))
		case "max_response_body":
			l.MaxResponseBody = int64(p.Integer(v, what, 1))
		case "rate":
			if s, ok := p.Scalar(v, what); ok {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil || f < 0 || f != f || f > 1e9 {
					p.errorf(v, "%s must be a number of requests per second, not %q", what, s)
				}
				l.Rate = f
			}
		case "burst":
			l.Burst = p.Integer(v, what, 1)
		case "rate_key":
			if s, ok := p.Scalar(v, what); ok {
				l.RateKey = s // a header name; "" is the client's address
			}
		case "retries":
			l.Retries = p.Integer(v, what, 0)
		case "break_after":
			l.BreakAfter = p.Integer(v, what, 1)
		case "break_cooldown":
			l.BreakCooldown = p.Duration(v, what)
		}
	}
}

// checkUpstream checks an upstreams entry: scheme://host[:port] and
// nothing more.
func checkUpstream(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want http:// or https://")
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return errors.New("want scheme://host[:port] only, without a user, path or query")
	}
	return nil
}

func (p *gparser) route(n *yaml.Node, readFlow func(string) (string, []byte, error)) *Route {
	r := &Route{Method: "GET", Timeout: DefaultTimeout, Concurrency: DefaultConcurrency, Line: n.Line, Col: n.Column}
	keys, vals, ok := p.Mapping(n, "a route", routeKeys)
	if !ok {
		return nil
	}
	var flowNode *yaml.Node
	for i, k := range keys {
		v := vals[i]
		what := fmt.Sprintf("%q of the route", k.Value)
		switch k.Value {
		case "method":
			if s, ok := p.Scalar(v, what); ok {
				if !regexp.MustCompile(`^[A-Z]+$`).MatchString(s) {
					p.errorf(v, "%s must be an HTTP method in capitals (GET, POST), not %q", what, s)
				}
				r.Method = s
			}
		case "path":
			if s, ok := p.Scalar(v, what); ok {
				if err := checkPath(s); err != nil {
					p.errorf(v, "%s %q: %v", what, s, err)
				}
				r.Path = s
				for _, m := range pathParam.FindAllStringSubmatch(s, -1) {
					r.Params = append(r.Params, m[1])
				}
			}
		case "flow":
			flowNode = v
		case "timeout":
			r.Timeout = p.Duration(v, what)
		case "concurrency":
			r.Concurrency = p.Integer(v, what, 1)
		case "response":
			r.Response = p.response(v)
		}
	}
	if r.Path == "" {
		p.errorf(n, `the route has no "path"`)
	}
	if flowNode == nil {
		p.errorf(n, `the route has no "flow" (a flow file, or steps: and output: written here)`)
		return nil
	}
	switch flowNode.Kind {
	case yaml.ScalarNode:
		r.FlowFile = flowNode.Value
		path, data, err := readFlow(flowNode.Value)
		if err != nil {
			p.errorf(flowNode, "flow %q: %v", flowNode.Value, err)
			return nil
		}
		f, err := flow.Parse(path, data)
		if err != nil {
			p.flowErrors(flowNode, err)
			return nil
		}
		r.Flow = f
	case yaml.MappingNode:
		f, err := flow.ParseNode(p.file, p.data, flowNode)
		if err != nil {
			p.flowErrors(flowNode, err)
			return nil
		}
		r.Flow = f
	default:
		p.errorf(flowNode, `"flow" must be a flow file's name or a mapping with "steps", not %s`, yamlcheck.KindName(flowNode))
		return nil
	}
	for _, name := range r.Flow.Order {
		if r.Flow.Steps[name].Exec != nil {
			p.errorf(flowNode, "step %q of the route's flow runs a process (exec): a gateway's flows make HTTP calls to its upstreams only", name)
			return nil
		}
	}
	p.checkResponse(r)
	return r
}

func (p *gparser) flowErrors(n *yaml.Node, err error) {
	var errs flow.Errors
	if errors.As(err, &errs) {
		p.errs = append(p.errs, errs...)
		return
	}
	p.errorf(n, "%v", err)
}

// checkPath checks a route's path: it starts with /, and its {name}
// parameters are names, each once, a {name...} only at the end.
func checkPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return errors.New("a path starts with /")
	}
	names := map[string]bool{}
	for _, m := range pathParam.FindAllStringSubmatchIndex(s, -1) {
		name := s[m[2]:m[3]]
		if names[name] {
			return fmt.Errorf("parameter {%s} twice", name)
		}
		names[name] = true
		if m[4] >= 0 && m[1] != len(s) {
			return fmt.Errorf("{%s...} must end the path", name)
		}
	}
	if strings.Count(s, "{") != len(names) || strings.Count(s, "}") != len(names) {
		return errors.New("a parameter is {name}: letters, digits and _")
	}
	return nil
}

func (p *gparser) response(n *yaml.Node) *Response {
	resp := &Response{Headers: map[string]string{}}
	keys, vals, ok := p.Mapping(n, `"response"`, responseKeys)
	if !ok {
		return nil
	}
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "status":
			if s, ok := p.Scalar(v, `"status" of the response`); ok {
				if strings.Contains(s, "${{") {
					p.expression(v, s)
				} else if c, err := strconv.Atoi(s); err != nil || c < 200 || c > 599 {
					p.errorf(v, `"status" of the response must be 200 to 599 or an expression, not %q`, s)
				}
				resp.Status = s
			}
		case "headers":
			hk, hv, ok := p.Mapping(v, `"headers" of the response`, nil)
			if !ok {
				continue
			}
			for j, h := range hk {
				if s, ok := p.Scalar(hv[j], fmt.Sprintf("header %q", h.Value)); ok {
					p.expression(hv[j], s)
					resp.Headers[h.Value] = s
				}
			}
		case "body":
			var body any
			if err := v.Decode(&body); err != nil {
				p.errorf(v, `"body" of the response: %v`, err)
				continue
			}
			p.expressions(v)
			resp.Body, resp.HasBody = body, true
		}
	}
	return resp
}

// expression checks that s compiles as a template.
func (p *gparser) expression(n *yaml.Node, s string) {
	if _, err := template.Parse(s); err != nil {
		p.errorf(n, "bad expression: %v", err)
	}
}

// expressions checks every string of a YAML value.
func (p *gparser) expressions(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		p.expression(n, n.Value)
	}
	for _, c := range n.Content {
		p.expressions(c)
	}
}

// checkResponse checks that the response's .steps.NAME references name
// steps of the route's flow.
func (p *gparser) checkResponse(r *Route) {
	if r.Response == nil || r.Flow == nil {
		return
	}
	var texts []string
	texts = append(texts, r.Response.Status)
	for _, h := range r.Response.Headers {
		texts = append(texts, h)
	}
	yamlcheck.WalkStrings(r.Response.Body, func(s string) { texts = append(texts, s) })
	for _, t := range texts {
		for _, m := range stepRef.FindAllStringSubmatch(t, -1) {
			if _, ok := r.Flow.Steps[m[1]]; !ok {
				p.errs = append(p.errs, &flow.Error{File: p.file, Line: r.Line, Col: r.Col,
					Msg: fmt.Sprintf("the response refers to .steps.%s, which is not a step of the route's flow", m[1])})
			}
		}
	}
}

var stepRef = regexp.MustCompile(`\.steps\.([A-Za-z_][A-Za-z0-9_]*)`)

// readerTexts are a response's strings, for flow.Config.Readers.
func (r *Response) readerTexts() []string {
	if r == nil {
		return nil
	}
	out := []string{r.Status}
	for _, h := range r.Headers {
		out = append(out, h)
	}
	yamlcheck.WalkStrings(r.Body, func(s string) { out = append(out, s) })
	return out
}
