package template_test

import (
	"fmt"

	"github.com/gogather/gather/template"
)

// xpath selects in an XML text (here an RSS feed, as a step's body), css
// in an HTML text; each gives a list of strings.
func ExampleParse_xpath() {
	feed := `<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0"><channel>
  <title>News</title>
  <lastBuildDate>Mon, 30 Nov 2026 09:15:00 GMT</lastBuildDate>
  <item><title>First</title><link>https://example.com/1</link></item>
  <item><title>Second</title><link>https://example.com/2</link></item>
</channel></rss>`
	page := `<html><body><h1>Hello <em>world</em></h1>
<ul><li><a class="x" href="/a">A</a></li><li><a href="/b">B</a></li></ul></body></html>`
	for _, src := range []string{
		`${{ .feed | xpath("//channel/lastBuildDate") | first }}`,
		`${{ .feed | xpath("//item/title") | join(",") }}`,
		`${{ .feed | xpath("//item/link") }}`,
		`${{ .feed | xpath("//nothing") }}`,
		`${{ .page | css("h1") | first }}`,
		`${{ .page | css("ul > li a.x, ul > li:last-child") }}`,
		`${{ .page | xpath("//h1") }}`,
	} {
		t, err := template.Parse(src)
		if err != nil {
			panic(err)
		}
		out, err := t.Execute(map[string]any{"feed": feed, "page": page})
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(out)
	}
	// Output:
	// Mon, 30 Nov 2026 09:15:00 GMT
	// First,Second
	// ["https://example.com/1","https://example.com/2"]
	// []
	// Hello world
	// ["A","B"]
	// ["Hello world"]
}
