package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestWriteHTMLIsSelfContainedAndEscaped(t *testing.T) {
	r := load(t, writeFixture(t, fixture, 12))
	r.Job = "crawl <i>.db"
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	doc, err := html.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var dataURLs []string
	for _, res := range fixture {
		dataURLs = append(dataURLs, res.URL)
	}
	// isDataURL reports whether the URL starting s is one of the job's.
	isDataURL := func(s string) bool {
		for _, u := range dataURLs {
			if strings.HasPrefix(s, u) {
				return true
			}
		}
		return false
	}
	count := map[string]int{}
	var texts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			count[n.Data]++
			for _, a := range n.Attr {
				v := strings.ToLower(a.Val)
				if strings.Contains(v, "http:") || strings.Contains(v, "https:") || strings.Contains(v, "url(") || strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s %s=%q>: an external reference or a handler", n.Data, a.Key, a.Val)
				}
				if a.Key == "src" || a.Key == "href" || a.Key == "xlink:href" {
					t.Errorf("<%s %s=%q>: a reference", n.Data, a.Key, a.Val)
				}
			}
		case html.TextNode:
			if n.Parent != nil && n.Parent.Data == "style" {
				if css := strings.ToLower(n.Data); strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "http") {
					t.Errorf("the style sheet references something: %s", n.Data)
				}
			}
			texts = append(texts, n.Data)
			for i := strings.Index(n.Data, "http"); i >= 0; {
				rest := n.Data[i:]
				if (strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://")) && !isDataURL(rest) && !isJobHost(rest) {
					t.Errorf("a URL that is not the job's in text %q", n.Data)
				}
				next := strings.Index(rest[1:], "http")
				if next < 0 {
					break
				}
				i += next + 1
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, tag := range []string{"script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject", "b", "i"} {
		if count[tag] > 0 {
			t.Errorf("%d <%s> elements", count[tag], tag)
		}
	}
	// The progress bar, throughput, latency histogram and hosts.
	if count["svg"] != 4 || count["rect"] < 20 || count["style"] != 1 {
		t.Errorf("svg %d, rect %d, style %d; want 4 charts and one style sheet", count["svg"], count["rect"], count["style"])
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{hostile, "<b>refused</b> & gone", "crawl <i>.db", "p99 90.0 ms"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	if !strings.Contains(raw, "http://x/&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(raw, "<script>") {
		t.Errorf("the hostile URL is not escaped")
	}
	if !strings.Contains(raw, "&lt;b&gt;refused&lt;/b&gt; &amp; gone") {
		t.Errorf("the hostile message is not escaped")
	}
}

// isJobHost reports whether s starts with a host of the job's results
// (scheme://host:port), which the report names.
func isJobHost(s string) bool {
	for _, h := range []string{"http://a.test:80", "https://b.test:443", "http://c.test:80", "http://x:80"} {
		if strings.HasPrefix(s, h) {
			return true
		}
	}
	return false
}
