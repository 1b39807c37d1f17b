package upstream

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// demoDo sends a request with an optional JSON body and token.
func demoDo(t *testing.T, c *http.Client, method, url, body, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, c, req)
}

// decodeJSONBody checks the response is JSON and decodes its body.
func decodeJSONBody(t *testing.T, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != contentJSON {
		t.Fatalf("%s: Content-Type %q, want %q", resp.Request.URL, ct, contentJSON)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: body %q: %v", resp.Request.URL, body, err)
	}
	return v
}

func TestDemoLoginGivesTheTokenForTheRightPasswordOnly(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	url := s.URL() + "/demo/login"

	resp, body := demoDo(t, c, "POST", url, `{"user":"demo","password":"demo-password"}`, "")
	wantStatus(t, resp, body, 200)
	if v := decodeJSONBody(t, resp, body); v["token"] != DemoToken {
		t.Errorf("login: %s, want the token %q", body, DemoToken)
	}

	resp, body = demoDo(t, c, "POST", url, `{"user":"demo","password":"guess"}`, "")
	wantStatus(t, resp, body, 401)
	if v := decodeJSONBody(t, resp, body); v["token"] != nil || v["error"] == nil {
		t.Errorf("wrong password: %s", body)
	}

	resp, body = demoDo(t, c, "POST", url, `user=demo`, "")
	wantStatus(t, resp, body, 400)

	resp, body = get(t, c, url)
	wantStatus(t, resp, body, 405)
	if resp.Header.Get("Allow") != "POST" {
		t.Errorf("405 with Allow %q, want POST", resp.Header.Get("Allow"))
	}
}

func TestDemoAccountResourcesAnswer401WithoutTheToken(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	want := map[string]string{
		"me":       `{"email":"ada@example.com","name":"Ada Lovelace","user":"demo"}`,
		"orders":   `{"orders":[1,2,3]}`,
		"messages": `{"unread":2}`,
	}
	for path, js := range want {
		url := s.URL() + "/demo/" + path
		for _, token := range []string{"", "not-the-token"} {
			resp, body := demoDo(t, c, "GET", url, "", token)
			wantStatus(t, resp, body, 401)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer", path)
			}
			decodeJSONBody(t, resp, body)
		}
		resp, body := demoDo(t, c, "GET", url, "", DemoToken)
		wantStatus(t, resp, body, 200)
		var wantV any
		json.Unmarshal([]byte(js), &wantV)
		if got := decodeJSONBody(t, resp, body); !reflect.DeepEqual(got, wantV) {
			t.Errorf("%s: %s, want %s", path, body, js)
		}
	}
}

func TestDemoOrdersListTheirItems(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for path, js := range map[string]string{
		"/demo/orders/7":  `{"id":7,"customer":"demo","items":[71,72]}`,
		"/demo/orders/2":  `{"id":2,"customer":"demo","items":[21,22,23]}`,
		"/demo/orders/3":  `{"id":3,"customer":"demo","items":[31]}`,
		"/demo/items/72":  `{"id":72,"name":"item 72","price":3}`,
		"/demo/items/100": `{"id":100,"name":"item 100","price":1}`,
	} {
		resp, body := get(t, c, s.URL()+path)
		wantStatus(t, resp, body, 200)
		var want any
		json.Unmarshal([]byte(js), &want)
		if got := decodeJSONBody(t, resp, body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s, want %s", path, body, js)
		}
	}
	for _, path := range []string{"/demo/orders/0", "/demo/orders/x", "/demo/items/-1", "/demo/items/1000000", "/demo/nothing"} {
		resp, body := get(t, c, s.URL()+path)
		wantStatus(t, resp, body, 404)
		decodeJSONBody(t, resp, body)
	}
	resp, body := demoDo(t, c, "DELETE", s.URL()+"/demo/orders/7", "", "")
	wantStatus(t, resp, body, 405)
}

func TestDemoFeedIsLatin1AsItsDeclarationSays(t *testing.T) {
	s := start(t, Config{})
	resp, body := get(t, newClient(t), s.URL()+"/demo/feed.xml")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/rss+xml" {
		t.Errorf("Content-Type %q, want application/rss+xml (no charset: the declaration says it)", ct)
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`)) {
		t.Errorf("no ISO-8859-1 declaration: %q", trim(body))
	}
	if utf8.Valid(body) || !bytes.Contains(body, []byte("<title>Caf\xe9 Gather</title>")) {
		t.Errorf("the feed is not latin1 with a non-ASCII byte: %q", trim(body))
	}
	if !bytes.Contains(body, []byte("<lastBuildDate>Sun, 01 Nov 2026 09:30:00 GMT</lastBuildDate>")) {
		t.Errorf("no lastBuildDate: %q", body)
	}
}

func TestDemoWordsAreTextLines(t *testing.T) {
	s := start(t, Config{})
	resp, body := get(t, newClient(t), s.URL()+"/demo/words")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != contentText || string(body) != demoWords {
		t.Errorf("Content-Type %q, body %q", ct, body)
	}
}

func TestDemoSummariesKeepsWhatItWasSentInOrder(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	url := s.URL() + "/demo/summaries"
	for i, js := range []string{`{"order":1,"total":5}`, `[1,"é"]`} {
		resp, body := demoDo(t, c, "POST", url, js, "")
		wantStatus(t, resp, body, 201)
		var got struct {
			Received json.RawMessage `json:"received"`
			Count    int             `json:"count"`
		}
		json.Unmarshal(body, &got)
		if string(got.Received) != js || got.Count != i+1 {
			t.Errorf("POST %s: %s", js, body)
		}
	}
	resp, body := demoDo(t, c, "POST", url, `{"order":`, "")
	wantStatus(t, resp, body, 400)

	resp, body = get(t, c, url)
	wantStatus(t, resp, body, 200)
	if want := `{"summaries":[{"order":1,"total":5},[1,"é"]]}` + "\n"; string(body) != want {
		t.Errorf("GET: %s, want %s", body, want)
	}
}

func TestDemoPathsWaitTheLatencyAndCountInStats(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	begin := time.Now()
	resp, body := get(t, c, s.URL()+"/demo/quote?latency=100ms")
	wantStatus(t, resp, body, 200)
	if took := time.Since(begin); took < 100*time.Millisecond {
		t.Errorf("answered in %v, before its latency of 100ms", took)
	}
	if v := decodeJSONBody(t, resp, body); v["author"] != "Alan Kay" {
		t.Errorf("quote: %s", body)
	}
	resp, body = get(t, c, s.URL()+"/demo/quote?latency=-1s")
	wantStatus(t, resp, body, 400)
	if got := s.Stats().ByPath["/demo/quote"]; got != 2 {
		t.Errorf("Stats.ByPath[/demo/quote] = %d, want 2", got)
	}
}
