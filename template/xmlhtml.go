package template

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	"github.com/itchyny/gojq"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Bounds on the texts one call of xpath or css returns. Its input is
// bounded by the caller (a response body is capped), but the texts of
// nested matches repeat each other: //* on elements nested n deep holds the
// innermost text n times.
const (
	// maxResultBytes bounds the bytes of text of one call's result.
	maxResultBytes = 32 << 20
	// maxTextNodes bounds the nodes one call reads to collect its texts
	// (each matched node's descendants, so nested matches count again).
	maxTextNodes = 1 << 24
)

// xpathFunc is jq's xpath("EXPR"): the texts of the nodes of the XML text
// input that EXPR selects. See the package's Functions section.
func xpathFunc(v any, args []any) any {
	src, ok := v.(string)
	if !ok {
		return fmt.Errorf("xpath: the input must be XML text (a string), got %s", gojq.TypeOf(v))
	}
	expr, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("xpath: the XPath expression must be a string, got %s", gojq.TypeOf(args[0]))
	}
	x, err := xpaths.get(expr)
	if err != nil {
		return fmt.Errorf("xpath: invalid XPath expression %q: %v", expr, err)
	}
	doc, err := parseXML(src)
	if err != nil {
		return err
	}
	out, err := x.eval(doc)
	if err != nil {
		return err
	}
	return out
}

// cssFunc is jq's css("SELECTOR"): the text content of the elements of the
// HTML text input that SELECTOR matches. See the package's Functions
// section.
func cssFunc(v any, args []any) any {
	src, ok := v.(string)
	if !ok {
		return fmt.Errorf("css: the input must be HTML text (a string), got %s", gojq.TypeOf(v))
	}
	sel, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("css: the selector must be a string, got %s", gojq.TypeOf(args[0]))
	}
	m, err := selectors.get(sel)
	if err != nil {
		return fmt.Errorf("css: invalid selector %q: %v", sel, err)
	}
	doc := parseHTML(src)
	c := collector{fn: "css", out: []any{}}
	for _, n := range cascadia.QueryAll(doc, m) {
		if err := c.add(htmlText(&c, n)); err != nil {
			return err
		}
	}
	if c.err != nil {
		return c.err
	}
	return c.out
}

// xpaths and selectors cache the compiled XPath expressions and CSS
// selectors.
var (
	xpaths    = newExprCache(compileXPath)
	selectors = newExprCache(compileCSS)
)

// An xpathExpr is a compiled XPath expression. An *xpath.Expr keeps the
// state of its evaluation in itself, so mu lets one goroutine at a time
// evaluate it.
type xpathExpr struct {
	mu   sync.Mutex
	expr *xpath.Expr
}

func compileXPath(s string) (*xpathExpr, error) {
	if s == "" {
		return nil, errors.New("empty expression")
	}
	e, err := xpath.Compile(s)
	if err != nil {
		return nil, err
	}
	return &xpathExpr{expr: e}, nil
}

func compileCSS(s string) (cascadia.SelectorGroup, error) {
	return cascadia.ParseGroup(s)
}

// eval returns the texts of what x selects in doc, as a list of strings.
// The nodes are taken in document order (antchfx/xpath gives a union's in
// the order of its operands), each once.
func (x *xpathExpr) eval(doc *xmlquery.Node) ([]any, error) {
	hits, scalar := x.selectNodes(doc)
	c := collector{fn: "xpath", out: []any{}}
	if scalar != nil {
		c.out = append(c.out, *scalar)
		return c.out, nil
	}
	for _, h := range inDocumentOrder(doc, hits) {
		s := h.value
		if h.attr < 0 {
			s = xmlText(&c, h.n)
		}
		if err := c.add(s); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

// selectNodes evaluates x on doc: the nodes it selects, or the text of its
// value when that is not a node-set.
func (x *xpathExpr) selectNodes(doc *xmlquery.Node) (hits []hit, scalar *string) {
	x.mu.Lock()
	defer x.mu.Unlock() // also when the evaluation panics
	var s string
	switch r := x.expr.Evaluate(xmlquery.CreateXPathNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		for r.MoveNext() {
			nav, ok := r.Current().(*xmlquery.NodeNavigator)
			if !ok {
				continue
			}
			h := hit{n: nav.Current(), attr: -1}
			if nav.NodeType() == xpath.AttributeNode {
				h.attr = attrIndex(h.n, nav)
				h.value = nav.Value()
			}
			hits = append(hits, h)
		}
		return hits, nil
	case string:
		s = r
	case float64:
		s = xpathNumber(r)
	case bool:
		s = strconv.FormatBool(r)
	}
	return nil, &s
}

// A hit is a node an XPath expression selected: n, or its attribute
// number attr (-1 for n itself) of value value.
type hit struct {
	n     *xmlquery.Node
	attr  int
	value string
}

// attrIndex returns the index in n.Attr of the attribute nav is on.
func attrIndex(n *xmlquery.Node, nav *xmlquery.NodeNavigator) int {
	for i, a := range n.Attr {
		if a.Name.Local == nav.LocalName() && a.Name.Space == nav.Prefix() && a.NamespaceURI == nav.NamespaceURL() {
			return i
		}
	}
	return len(n.Attr)
}

// inDocumentOrder sorts hits in the document order of doc, an element's
// attributes right after it, and drops repeated ones.
func inDocumentOrder(doc *xmlquery.Node, hits []hit) []hit {
	if len(hits) < 2 {
		return hits
	}
	pos := make(map[*xmlquery.Node]int)
	for cur, i := doc, 0; cur != nil; i++ {
		pos[cur] = i
		if cur.FirstChild != nil {
			cur = cur.FirstChild
			continue
		}
		for cur != nil && cur.NextSibling == nil {
			cur = cur.Parent
		}
		if cur != nil {
			cur = cur.NextSibling
		}
	}
	cmp := func(a, b hit) int {
		if c := pos[a.n] - pos[b.n]; c != 0 {
			return c
		}
		return a.attr - b.attr
	}
	slices.SortStableFunc(hits, cmp)
	return slices.CompactFunc(hits, func(a, b hit) bool { return cmp(a, b) == 0 })
}

// xpathNumber returns f as XPath's string() writes it: no exponent,
// integers without a decimal point.
func xpathNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// parseXML parses the XML text s. Text that is valid UTF-8 is read as
// UTF-8 whatever its declaration says (it may have been decoded already,
// as a latin1 body is); other text is decoded by its declared encoding
// first (xmlquery finds prefixes and CDATA in the bytes it reads, so it
// must read UTF-8). encoding/xml reads no DTD: it fetches no external
// entity and expands no entity declared in the document.
func parseXML(s string) (*xmlquery.Node, error) {
	if !utf8.ValidString(s) {
		if label := declaredEncoding(s); label != "" && !strings.EqualFold(label, "utf-8") {
			enc, _ := charset.Lookup(label)
			if enc == nil {
				return nil, fmt.Errorf("xpath: the input is not well-formed XML: unsupported encoding %q", label)
			}
			d, err := enc.NewDecoder().String(s)
			if err != nil {
				return nil, fmt.Errorf("xpath: the input is not well-formed XML: decoding %s: %v", label, err)
			}
			s = d
		}
	}
	doc, err := xmlquery.ParseWithOptions(strings.NewReader(s), xmlquery.ParserOptions{
		Decoder: &xmlquery.DecoderOptions{
			Strict:        true,
			Entity:        xml.HTMLEntity,
			CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
		},
	})
	if err != nil {
		if err.Error() == "xmlquery: invalid XML document" {
			return nil, fmt.Errorf("xpath: the input is not XML: it has no element")
		}
		return nil, fmt.Errorf("xpath: the input is not well-formed XML: %v", err)
	}
	return doc, nil
}

// declaredEncoding returns the encoding s's XML declaration names, if any.
func declaredEncoding(s string) string {
	var label string
	d := xml.NewDecoder(strings.NewReader(s))
	d.CharsetReader = func(l string, r io.Reader) (io.Reader, error) {
		label = l
		return r, nil
	}
	d.Token()
	return label
}

// parseHTML parses the HTML text s, as a browser does (it never fails).
// Text that is valid UTF-8 is read as UTF-8; other text is decoded by the
// encoding its <meta> names, or else as windows-1252.
func parseHTML(s string) *html.Node {
	var r io.Reader = strings.NewReader(s)
	if !utf8.ValidString(s) {
		if dr, err := charset.NewReader(r, ""); err == nil {
			r = dr
		}
	}
	doc, err := html.Parse(r)
	if err != nil { // only a reader's error, which strings and charset do not give
		return &html.Node{Type: html.DocumentNode}
	}
	return doc
}

// A collector gathers the texts of one call of xpath or css, within
// maxResultBytes and maxTextNodes.
type collector struct {
	fn    string // the function's name, for errors
	out   []any
	bytes int
	nodes int
	err   error // the first bound passed, when a walk stopped
}

// add appends s to c's texts.
func (c *collector) add(s string) error {
	if c.err != nil {
		return c.err
	}
	c.bytes += len(s)
	if c.bytes > maxResultBytes {
		c.err = fmt.Errorf("%s: the result is too large: over %d bytes of text", c.fn, maxResultBytes)
		return c.err
	}
	c.out = append(c.out, s)
	return nil
}

// visit counts one node read, and says whether the walk may go on.
func (c *collector) visit(textLen int) bool {
	if c.err != nil {
		return false
	}
	c.nodes++
	if c.nodes > maxTextNodes {
		c.err = fmt.Errorf("%s: the result is too large: over %d nodes read to collect its texts", c.fn, maxTextNodes)
		return false
	}
	if c.bytes+textLen > maxResultBytes {
		c.err = fmt.Errorf("%s: the result is too large: over %d bytes of text", c.fn, maxResultBytes)
		return false
	}
	return true
}

// xmlText returns the text content of n: its own text, for a text, CDATA,
// comment or processing instruction node; the text and CDATA of its
// descendants, in order, for an element or the document. It walks without
// recursion, and stops (setting c.err) past c's bounds.
func xmlText(c *collector, n *xmlquery.Node) string {
	switch n.Type {
	case xmlquery.TextNode, xmlquery.CharDataNode, xmlquery.CommentNode, xmlquery.ProcessingInstruction:
		c.visit(0)
		return n.Data
	case xmlquery.ElementNode, xmlquery.DocumentNode:
	default:
		return ""
	}
	var b strings.Builder
	for cur := n; ; {
		if !c.visit(b.Len()) {
			return ""
		}
		switch cur.Type {
		case xmlquery.TextNode, xmlquery.CharDataNode:
			b.WriteString(cur.Data)
		case xmlquery.ElementNode, xmlquery.DocumentNode:
			if cur.FirstChild != nil {
				cur = cur.FirstChild
				continue
			}
		}
		for cur != n && cur.NextSibling == nil {
			cur = cur.Parent
		}
		if cur == n {
			return b.String()
		}
		cur = cur.NextSibling
	}
}

// htmlText returns the text content of n (as the DOM's textContent): the
// text of its descendants, in order, comments excluded. It walks without
// recursion, and stops (setting c.err) past c's bounds.
func htmlText(c *collector, n *html.Node) string {
	var b strings.Builder
	for cur := n; ; {
		if !c.visit(b.Len()) {
			return ""
		}
		switch cur.Type {
		case html.TextNode:
			b.WriteString(cur.Data)
		case html.ElementNode, html.DocumentNode:
			if cur.FirstChild != nil {
				cur = cur.FirstChild
				continue
			}
		}
		for cur != n && cur.NextSibling == nil {
			cur = cur.Parent
		}
		if cur == n {
			return b.String()
		}
		cur = cur.NextSibling
	}
}
