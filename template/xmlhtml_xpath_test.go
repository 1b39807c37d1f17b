package template

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// rssLatin1 is an RSS feed in ISO-8859-1: its é are the byte 0xE9.
const rssLatin1 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
	"<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n" +
	"<channel>\n" +
	"  <title>Le caf\xe9 du coin</title>\n" +
	"  <atom:link href=\"https://example.com/feed.xml\" rel=\"self\"/>\n" +
	"  <lastBuildDate>Mon, 30 Nov 2026 09:15:00 +0100</lastBuildDate>\n" +
	"  <item>\n" +
	"    <title>Premi\xe8re &amp; derni\xe8re</title>\n" +
	"    <link href=\"https://example.com/1\">https://example.com/1</link>\n" +
	"    <dc:creator>Ren\xe9e</dc:creator>\n" +
	"    <description><![CDATA[<p>Bient\xf4t</p>]]></description>\n" +
	"  </item>\n" +
	"  <item>\n" +
	"    <title>Second</title>\n" +
	"    <link href=\"https://example.com/2\">https://example.com/2</link>\n" +
	"    <dc:creator>Ann</dc:creator>\n" +
	"  </item>\n" +
	"</channel>\n" +
	"</rss>\n"

// latin1ToUTF8 decodes ISO-8859-1 text, as the fetch package does for a
// body whose Content-Type says so.
func latin1ToUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

const rssASCII = `<?xml version="1.0" encoding="us-ascii"?>
<rss version="2.0"><channel><title>ASCII &#233;t&#xE9;</title>
<lastBuildDate>Mon, 30 Nov 2026 09:15:00 GMT</lastBuildDate></channel></rss>`

const rssWin1252 = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" +
	"<rss><channel><title>\x93Quoted\x94 \x80 5</title></channel></rss>"

const atom = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom feed</title>
  <entry><title>One</title><link href="https://example.com/a1"/></entry>
  <entry><title>Two</title><link href="https://example.com/a2"/></entry>
</feed>`

// run fills src with {"text": text}.
func run(t *testing.T, src, text string) (string, error) {
	t.Helper()
	tp, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return tp.Execute(map[string]any{"text": text})
}

func TestXPath(t *testing.T) {
	tests := []struct {
		name, text, expr, want string
	}{
		{"latin1 lastBuildDate", rssLatin1, `.text | xpath("//channel/lastBuildDate")`, `["Mon, 30 Nov 2026 09:15:00 +0100"]`},
		{"latin1 non-ASCII", rssLatin1, `.text | xpath("//title")`, `["Le café du coin","Première & dernière","Second"]`},
		{"latin1 already decoded", latin1ToUTF8(rssLatin1), `.text | xpath("/rss/channel/title")`, `["Le café du coin"]`},
		{"join", rssLatin1, `.text | xpath("//item/title") | join(",")`, `Première & dernière,Second`},
		{"us-ascii", rssASCII, `.text | xpath("//channel/lastBuildDate")`, `["Mon, 30 Nov 2026 09:15:00 GMT"]`},
		{"us-ascii character references", rssASCII, `.text | xpath("//title")`, `["ASCII été"]`},
		{"windows-1252", rssWin1252, `.text | xpath("//title")`, `["“Quoted” € 5"]`},
		{"attributes", rssLatin1, `.text | xpath("//item/link/@href")`, `["https://example.com/1","https://example.com/2"]`},
		{"attribute of a prefixed element", rssLatin1, `.text | xpath("//atom:link/@href")`, `["https://example.com/feed.xml"]`},
		{"prefixed element", rssLatin1, `.text | xpath("//dc:creator")`, `["Renée","Ann"]`},
		{"local-name", rssLatin1, `.text | xpath("//*[local-name()='creator']")`, `["Renée","Ann"]`},
		{"namespace-uri", rssLatin1, `.text | xpath("//*[namespace-uri()='http://purl.org/dc/elements/1.1/']")`, `["Renée","Ann"]`},
		{"CDATA", rssLatin1, `.text | xpath("//description")`, `["<p>Bientôt</p>"]`},
		{"default namespace", atom, `.text | xpath("/feed/entry/title")`, `["One","Two"]`},
		{"default namespace local-name", atom, `.text | xpath("//*[local-name()='entry']/*[local-name()='link']/@href")`, `["https://example.com/a1","https://example.com/a2"]`},
		{"predicate", rssLatin1, `.text | xpath("//item[dc:creator='Ann']/title")`, `["Second"]`},
		{"position", rssLatin1, `.text | xpath("(//item/link)[last()]")`, `["https://example.com/2"]`},
		{"text nodes", `<p>a<b>b</b>c</p>`, `.text | xpath("/p/text()")`, `["a","c"]`},
		{"nested text content", `<p>a<b>b<i>i</i></b>c<!-- no --></p>`, `.text | xpath("//*")`, `["abic","bi","i"]`},
		{"document order", `<r><a>1</a><b>2</b><a>3</a></r>`, `.text | xpath("//b | //a")`, `["1","2","3"]`},
		{"document order attributes", `<r><a x="1" y="2">3</a><b z="4"/></r>`, `.text | xpath("//b/@z | //a | //@y | //a/@x | //a")`, `["3","1","2","4"]`},
		{"ancestors in document order", `<r><a>1<b>2<c>3</c></b></a></r>`, `.text | xpath("//c/ancestor::*")`, `["123","123","23"]`},
		{"no match", rssLatin1, `.text | xpath("//nothing")`, `[]`},
		{"no match join", rssLatin1, `.text | xpath("//nothing") | join(",")`, ``},
		{"count", rssLatin1, `.text | xpath("count(//item)")`, `["2"]`},
		{"string", rssLatin1, `.text | xpath("string(//item/title)")`, `["Première & dernière"]`},
		{"boolean", rssLatin1, `.text | xpath("boolean(//item)")`, `["true"]`},
		{"HTML entity", `<p>a&nbsp;b</p>`, `.text | xpath("/p")`, "[\"a\u00a0b\"]"},
		{"DOCTYPE", `<!DOCTYPE note SYSTEM "http://example.invalid/note.dtd"><note>hi</note>`, `.text | xpath("/note")`, `["hi"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, "${{ "+tt.expr+" }}", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCSS(t *testing.T) {
	const page = `<!DOCTYPE html>
<html><head><title>Page</title></head>
<body>
<h1>Hello <em>world</em></h1>
<ul>
  <li>one</li>
  <li>two <a class="x" href="/2">link</a>
    <ol><li>nested</li></ol>
  </li>
</ul>
<p><a class="x y" href="/3">three</a> <a class="z" href="/4">four</a></p>
<div id="d">caf&eacute; <!-- comment --><span>&amp; more</span></div>
</body></html>`
	tests := []struct {
		name, text, expr, want string
	}{
		{"h1 nested", page, `.text | css("h1")`, `["Hello world"]`},
		{"class", page, `.text | css("a.x")`, `["link","three"]`},
		{"child combinator", page, `.text | css("ul > li") | map(gsub("\\s+"; " "))`, `["one","two link nested "]`},
		{"descendant", page, `.text | css("ul li")| length`, `3`},
		{"id and entities", page, `.text | css("#d")`, `["café & more"]`},
		{"group in document order", page, `.text | css("a.z, h1")`, `["Hello world","four"]`},
		{"attribute", page, `.text | css("a[href='/3']")`, `["three"]`},
		{"no match", page, `.text | css("table")`, `[]`},
		{"fragment", `<b>x</b>y<b>z</b>`, `.text | css("b") | join(",")`, `x,z`},
		{"latin1 meta", "<meta charset=\"iso-8859-1\"><p>caf\xe9</p>", `.text | css("p")`, `["café"]`},
		{"utf-8 despite meta", "<meta charset=\"iso-8859-1\"><p>café</p>", `.text | css("p")`, `["café"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, "${{ "+tt.expr+" }}", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestXPathCSSErrors(t *testing.T) {
	tests := []struct {
		name, text, expr, want string
	}{
		{"xpath input object", "", `{} | xpath("//a")`, `xpath: the input must be XML text (a string), got object`},
		{"xpath input null", "", `null | xpath("//a")`, `xpath: the input must be XML text (a string), got null`},
		{"xpath argument", "<a/>", `.text | xpath(1)`, `xpath: the XPath expression must be a string, got number`},
		{"xpath bad expression", "<a/>", `.text | xpath("//a[@x='1")`, `xpath: invalid XPath expression "//a[@x='1": xpath: scanString got unclosed string`},
		{"xpath not a node-set", "<a/>", `.text | xpath("//[")`, `xpath: invalid XPath expression "//[": expression must evaluate to a node-set`},
		{"xpath empty expression", "<a/>", `.text | xpath("")`, `xpath: invalid XPath expression "": empty expression`},
		{"xpath variable", "<a/>", `.text | xpath("$x")`, `xpath: invalid XPath expression "$x": undeclared variable in XPath expression: $x`},
		{"xml mismatched tag", "<a>\n<b>\n</a>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 3: element <b> closed by </a>`},
		{"xml unclosed", "<a>\n<b></b>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 2: unexpected EOF`},
		{"xml unknown entity", "<a>&foo;</a>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 1: invalid character entity &foo;`},
		{"xml external entity", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`, `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 1: invalid character entity &e;`},
		{"xml invalid UTF-8", "<a>\xe9</a>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 1: invalid UTF-8`},
		{"xml unknown encoding", "<?xml version=\"1.0\" encoding=\"klingon\"?><a>\xe9</a>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: unsupported encoding "klingon"`},
		{"xml invalid UTF-8 declared", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>\xe9</a>", `.text | xpath("//a")`, `xpath: the input is not well-formed XML: XML syntax error on line 2: invalid UTF-8`},
		{"xml empty", "", `.text | xpath("//a")`, `xpath: the input is not XML: it has no element`},
		{"xml no element", "just text", `.text | xpath("//a")`, `xpath: the input is not XML: it has no element`},
		{"css input number", "", `1 | css("a")`, `css: the input must be HTML text (a string), got number`},
		{"css input array", "", `[] | css("a")`, `css: the input must be HTML text (a string), got array`},
		{"css argument", "<a/>", `.text | css(null)`, `css: the selector must be a string, got null`},
		{"css bad selector", "<a/>", `.text | css("a[")`, `css: invalid selector "a[": expected identifier, found EOF instead`},
		{"css empty selector", "<a/>", `.text | css("")`, `css: invalid selector "": expected selector, found EOF instead`},
		{"css pseudo-element", "<a/>", `.text | css("p::before")`, `css: invalid selector "p::before": pseudo-element before found, but pseudo-elements support is disabled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "${{ " + tt.expr + " }}"
			_, err := run(t, src, tt.text)
			want := fmt.Sprintf("column 1: ${{%s}}: %s", shorten(" "+tt.expr+" "), tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("error\ngot  %v\nwant %s", err, want)
			}
			// try/catch sees the message.
			got, err := run(t, "${{ try ("+tt.expr+") catch . }}", tt.text)
			if err != nil || got != tt.want {
				t.Errorf("catch: got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestXPathCSSBounds(t *testing.T) {
	// Elements nested deep, each holding a long text: //* repeats the
	// innermost text once per level.
	const depth = 100
	inner := strings.Repeat("x", maxResultBytes/depth*2)
	doc := strings.Repeat("<div>", depth) + inner + strings.Repeat("</div>", depth)
	_, err := run(t, `${{ .text | xpath("//div") | length }}`, doc)
	if err == nil || !strings.Contains(err.Error(), "xpath: the result is too large: over 33554432 bytes of text") {
		t.Errorf("xpath: %v", err)
	}
	_, err = run(t, `${{ .text | css("div") | length }}`, doc)
	if err == nil || !strings.Contains(err.Error(), "css: the result is too large: over 33554432 bytes of text") {
		t.Errorf("css: %v", err)
	}
	// Nested elements without text still cost the walk.
	const deep = 6000
	doc = strings.Repeat("<a>", deep) + strings.Repeat("</a>", deep)
	_, err = run(t, `${{ .text | xpath("//a") | length }}`, doc)
	if err == nil || !strings.Contains(err.Error(), "xpath: the result is too large: over 16777216 nodes read to collect its texts") {
		t.Errorf("xpath nodes: %v", err)
	}
	// Within the bounds, the same shapes work.
	got, err := run(t, `${{ .text | xpath("//a") | length }}`, strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100))
	if err != nil || got != "100" {
		t.Errorf("xpath within bounds: %q, %v", got, err)
	}
}

func TestExprCache(t *testing.T) {
	c := newExprCache(func(s string) (int, error) {
		if s == "bad" {
			return 0, fmt.Errorf("bad expression")
		}
		return len(s), nil
	})
	for i := range exprCacheSize + 10 {
		if v, err := c.get(strings.Repeat("a", i+1)); err != nil || v != i+1 {
			t.Fatalf("get: %v, %v", v, err)
		}
	}
	if n := c.len(); n != exprCacheSize {
		t.Errorf("len = %d, want %d", n, exprCacheSize)
	}
	if _, err := c.get("bad"); err == nil || err.Error() != "bad expression" {
		t.Errorf("bad: %v", err)
	}
	long := strings.Repeat("b", exprCacheMaxLen+1)
	if v, err := c.get(long); err != nil || v != len(long) {
		t.Errorf("long: %v, %v", v, err)
	}
	if n := c.len(); n != exprCacheSize {
		t.Errorf("len after a long one = %d, want %d", n, exprCacheSize)
	}

	// Each expression is compiled once, however many ask at once.
	var mu sync.Mutex
	compiled := map[string]int{}
	c2 := newExprCache(func(s string) (string, error) {
		mu.Lock()
		compiled[s]++
		mu.Unlock()
		return s, nil
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			for j := range 20 {
				s := fmt.Sprint((i + j) % 5)
				if v, _ := c2.get(s); v != s {
					t.Errorf("get(%q) = %q", s, v)
				}
			}
		})
	}
	wg.Wait()
	for s, n := range compiled {
		if n != 1 {
			t.Errorf("%q compiled %d times", s, n)
		}
	}
}

// Many goroutines fill the same templates, whose compiled XPath expression
// and CSS selector are shared.
func TestXPathCSSConcurrent(t *testing.T) {
	x, err := Parse(`${{ .text | xpath("//item[dc:creator]/title | //channel/lastBuildDate") | join("|") }} ${{ .text | xpath("count(//item)") | first }}`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(`${{ .html | css("li.a, p > b") | join("|") }}`)
	if err != nil {
		t.Fatal(err)
	}
	const wantX = "Mon, 30 Nov 2026 09:15:00 +0100|Première & dernière|Second 2"
	const wantC = "1|2|3"
	rec := map[string]any{"text": rssLatin1, "html": `<ul><li class="a">1</li><li>no</li></ul><p><b>2</b><i><b>no</b></i></p><li class="a">3</li>`}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				if got, err := x.Execute(rec); err != nil || got != wantX {
					t.Errorf("xpath: %q, %v", got, err)
					return
				}
				if got, err := c.Execute(rec); err != nil || got != wantC {
					t.Errorf("css: %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzXPathCSS(f *testing.F) {
	for _, s := range []string{rssLatin1, rssASCII, rssWin1252, atom, "<a><b>x</b></a>", "", "<", "<p>a<b>b</p>", "\xff\xfe<\x00a\x00/\x00>\x00"} {
		f.Add(s, "//b")
		f.Add(s, "//*[local-name()='a']/@x")
		f.Add(s, "a > b, p")
		f.Add(s, "count(//*)")
	}
	f.Fuzz(func(t *testing.T, text, expr string) {
		for _, fn := range []func(any, []any) any{xpathFunc, cssFunc} {
			switch v := fn(text, []any{expr}).(type) {
			case error:
			case []any:
				for _, s := range v {
					if _, ok := s.(string); !ok {
						t.Fatalf("not a string: %#v", s)
					}
				}
			default:
				t.Fatalf("unexpected value %#v", v)
			}
		}
	})
}
