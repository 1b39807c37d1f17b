package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The demo API (paths under /demo/, see the package doc's Demo API
// section): a tiny shop that the flows of examples/ talk to.
const (
	// DemoUser and DemoPassword are what POST /demo/login accepts.
	DemoUser     = "demo"
	DemoPassword = "demo-password"
	// DemoToken is the token login returns, the Bearer token the account
	// resources want.
	DemoToken = "demo-token-5e3f9a"

	// maxDemoBody bounds a demo request's body.
	maxDemoBody = 1 << 20
	// maxDemoSummaries bounds the summaries a server keeps.
	maxDemoSummaries = 10000
	// maxDemoID bounds order and item ids.
	maxDemoID = 1_000_000
)

// demoFeed is the RSS feed of /demo/feed.xml, in ISO-8859-1 as its
// declaration says: \xe9 is é, \xe8 è, \xfb û.
const demoFeed = `<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0">
  <channel>
    <title>Caf` + "\xe9" + ` Gather</title>
    <link>https://example.com/</link>
    <description>News of the demo shop</description>
    <lastBuildDate>Sun, 01 Nov 2026 09:30:00 GMT</lastBuildDate>
    <item>
      <title>Cr` + "\xe8" + `me br` + "\xfb" + `l` + "\xe9" + `e is back</title>
      <link>https://example.com/news/1</link>
    </item>
    <item>
      <title>Opening hours</title>
      <link>https://example.com/news/2</link>
    </item>
  </channel>
</rss>
`

// demoWords is the body of /demo/words: one word a line, not sorted.
const demoWords = "pear\nfig\napple\nkiwi\nbanana\ncherry\n"

// demoState is what the demo API remembers: the summaries POSTed to it.
type demoState struct {
	mu        sync.Mutex
	summaries []json.RawMessage
}

// serveDemo answers a request for a path under /demo/. The latency and
// jitter knobs apply; the failure and body knobs do not.
func (s *Server) serveDemo(w http.ResponseWriter, r *http.Request, p *params) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDemoBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			return // the client went away
		}
		demoJSON(w, r, http.StatusRequestEntityTooLarge, demoError("request body over 1 MiB"))
		return
	}
	d := p.latency
	if p.jitter > 0 {
		d += time.Duration(s.float() * float64(p.jitter))
	}
	if err := s.sleep(r.Context(), d); err != nil {
		abort(err)
		return
	}

	path := strings.TrimPrefix(r.URL.Path, "/demo/")
	switch {
	case path == "login":
		if demoMethod(w, r, http.MethodPost) {
			demoLogin(w, r, body)
		}
	case path == "me", path == "orders", path == "messages":
		if !demoMethod(w, r, http.MethodGet) || !demoAuth(w, r) {
			return
		}
		demoJSON(w, r, http.StatusOK, demoAccount[path])
	case strings.HasPrefix(path, "orders/"):
		if id, ok := demoID(w, r, path, "orders/"); ok {
			demoJSON(w, r, http.StatusOK, demoOrder(id))
		}
	case strings.HasPrefix(path, "items/"):
		if id, ok := demoID(w, r, path, "items/"); ok {
			demoJSON(w, r, http.StatusOK, demoItem(id))
		}
	case path == "quote":
		if demoMethod(w, r, http.MethodGet) {
			demoJSON(w, r, http.StatusOK, map[string]any{
				"text":   "Simple things should be simple, complex things should be possible.",
				"author": "Alan Kay",
			})
		}
	case path == "feed.xml":
		if demoMethod(w, r, http.MethodGet) {
			demoWrite(w, r, http.StatusOK, "application/rss+xml", []byte(demoFeed))
		}
	case path == "words":
		if demoMethod(w, r, http.MethodGet) {
			demoWrite(w, r, http.StatusOK, contentText, []byte(demoWords))
		}
	case path == "summaries":
		s.demoSummaries(w, r, body)
	default:
		demoJSON(w, r, http.StatusNotFound, demoError("no such demo resource: "+r.URL.Path))
	}
}

// demoAccount are the resources that want the token.
var demoAccount = map[string]any{
	"me":       map[string]any{"user": DemoUser, "name": "Ada Lovelace", "email": "ada@example.com"},
	"orders":   map[string]any{"orders": []int{1, 2, 3}},
	"messages": map[string]any{"unread": 2},
}

// demoOrder is order id: id%3+1 items, of ids id*10+1, id*10+2, ...
func demoOrder(id int) map[string]any {
	items := make([]int, id%3+1)
	for i := range items {
		items[i] = id*10 + i + 1
	}
	return map[string]any{"id": id, "customer": DemoUser, "items": items}
}

// demoItem is item id, of price id%10+1.
func demoItem(id int) map[string]any {
	return map[string]any{"id": id, "name": "item " + strconv.Itoa(id), "price": id%10 + 1}
}

// demoLogin answers POST /demo/login.
func demoLogin(w http.ResponseWriter, r *http.Request, body []byte) {
	var creds struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal(body, &creds); err != nil {
		demoJSON(w, r, http.StatusBadRequest, demoError(`want a JSON object {"user": ..., "password": ...}`))
		return
	}
	if creds.User != DemoUser || creds.Password != DemoPassword {
		demoJSON(w, r, http.StatusUnauthorized, demoError("wrong user or password"))
		return
	}
	demoJSON(w, r, http.StatusOK, map[string]any{"token": DemoToken, "expires_in": 3600})
}

// demoSummaries answers POST /demo/summaries (keep a JSON value, answer
// it back) and GET /demo/summaries (every value kept, in order).
func (s *Server) demoSummaries(w http.ResponseWriter, r *http.Request, body []byte) {
	st := &s.demo
	switch r.Method {
	case http.MethodPost:
		if !json.Valid(body) {
			demoJSON(w, r, http.StatusBadRequest, demoError("want a JSON body"))
			return
		}
		st.mu.Lock()
		n := len(st.summaries)
		if n < maxDemoSummaries {
			st.summaries = append(st.summaries, json.RawMessage(bytes.Clone(body)))
		}
		st.mu.Unlock()
		if n >= maxDemoSummaries {
			demoJSON(w, r, http.StatusInsufficientStorage, demoError("the server keeps 10000 summaries and has them"))
			return
		}
		demoJSON(w, r, http.StatusCreated, map[string]any{"received": json.RawMessage(body), "count": n + 1})
	case http.MethodGet, http.MethodHead:
		st.mu.Lock()
		list := append([]json.RawMessage{}, st.summaries...)
		st.mu.Unlock()
		demoJSON(w, r, http.StatusOK, map[string]any{"summaries": list})
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		demoJSON(w, r, http.StatusMethodNotAllowed, demoError("use GET or POST"))
	}
}

// demoMethod reports whether the request's method is method (GET
// allows HEAD too), answering 405 if not.
func demoMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	allow := method
	if method == http.MethodGet {
		allow = "GET, HEAD"
	}
	w.Header().Set("Allow", allow)
	demoJSON(w, r, http.StatusMethodNotAllowed, demoError("use "+method))
	return false
}

// demoAuth reports whether the request carries the token, answering 401
// if not.
func demoAuth(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "Bearer "+DemoToken {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="demo"`)
	demoJSON(w, r, http.StatusUnauthorized, demoError("want Authorization: Bearer TOKEN, the token of POST /demo/login"))
	return false
}

// demoID parses the id after prefix in path, answering 404 if it is not
// an id in [1, 999999] and 405 unless the method is GET.
func demoID(w http.ResponseWriter, r *http.Request, path, prefix string) (int, bool) {
	id, err := strconv.Atoi(strings.TrimPrefix(path, prefix))
	if err != nil || id < 1 || id >= maxDemoID {
		demoJSON(w, r, http.StatusNotFound, demoError("no such resource: "+r.URL.Path+" (ids are 1 to 999999)"))
		return 0, false
	}
	return id, demoMethod(w, r, http.MethodGet)
}

func demoError(msg string) map[string]any { return map[string]any{"error": msg} }

// demoJSON answers v as JSON.
func demoJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // cannot fail: maps, strings, numbers and valid raw JSON
	demoWrite(w, r, code, contentJSON, buf.Bytes())
}

// demoWrite answers body with its Content-Type and Content-Length.
func demoWrite(w http.ResponseWriter, r *http.Request, code int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
