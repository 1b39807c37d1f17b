package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Filter selects stored results: those matching any of its items (an
// outcome, an error kind, an exact status or a status class). An empty
// Filter, or a nil one, selects every result. gather export --status and
// gather fetch --retry-failed read it (ParseFilter); --retry-failed runs
// again the failed results it selects.
type Filter struct {
	OK       bool     // "ok": the results without an error
	Failed   bool     // "failed": every failed result
	Kinds    []string // error kinds: "timeout_total"
	Statuses []int    // exact statuses, 100 to 999, or 0: no response ("none")
	Classes  []int    // status classes, 1 to 5: 5 for 5xx
}

// empty reports whether f selects every result.
func (f *Filter) empty() bool {
	return f == nil || !f.OK && !f.Failed && len(f.Kinds)+len(f.Statuses)+len(f.Classes) == 0
}

// ParseFilter parses a filter: "" or "all" selects every result; else a
// comma-separated list of items, a result matching any of them:
//
//	ok, failed    the results without an error; those with one
//	none, 0       the results without a response (status 0)
//	503           an exact HTTP status, 100 to 999
//	5xx           a status class, 1xx to 5xx (case-insensitive)
//	dns           an error kind: a lower-case word (letters, digits, _)
//
// kinds, when given, are the known error kinds (a fetch job's are
// fetch.Kinds()): another word is an error naming them; without them any
// word is an error kind. An error says which item of the list is wrong, by
// its place and text.
func ParseFilter(s string, kinds ...string) (*Filter, error) {
	f := &Filter{}
	if t := strings.ToLower(strings.TrimSpace(s)); t == "" || t == "all" {
		return f, nil
	}
	items := strings.Split(s, ",")
	for i, item := range items {
		orig := strings.TrimSpace(item)
		tok := strings.ToLower(orig) // DNS, OK and 5XX as dns, ok and 5xx
		where := ""
		if len(items) > 1 {
			where = fmt.Sprintf("item %d of %q: ", i+1, s)
		}
		switch {
		case tok == "":
			return nil, fmt.Errorf("%san empty item", where)
		case tok == "all":
			return nil, fmt.Errorf(`%s"all" selects every result: give it alone`, where)
		case tok == "ok":
			f.OK = true
		case tok == "failed":
			f.Failed = true
		case tok == "none":
			f.Statuses = append(f.Statuses, 0)
		case len(tok) == 3 && strings.EqualFold(tok[1:], "xx") && tok[0] >= '0' && tok[0] <= '9':
			if tok[0] < '1' || tok[0] > '5' {
				return nil, fmt.Errorf("%s%q is not a status class: the classes are 1xx to 5xx", where, orig)
			}
			f.Classes = append(f.Classes, int(tok[0]-'0'))
		case tok[0] >= '0' && tok[0] <= '9':
			n, err := strconv.Atoi(tok)
			if err != nil || n != 0 && (n < 100 || n > 999) {
				return nil, fmt.Errorf("%s%q is neither an HTTP status (100 to 999, or 0: no response) nor a class (1xx to 5xx)", where, orig)
			}
			f.Statuses = append(f.Statuses, n)
		case isWord(tok) && (len(kinds) == 0 || slices.Contains(kinds, tok)):
			f.Kinds = append(f.Kinds, tok)
		case isWord(tok):
			return nil, fmt.Errorf("%s%q is neither an error kind (%s), a status (503, none), a class (5xx), ok nor failed", where, orig, strings.Join(kinds, ", "))
		default:
			return nil, fmt.Errorf("%s%q is neither an error kind, a status (503, none), a class (5xx), ok nor failed", where, orig)
		}
	}
	return f, nil
}

// isWord reports whether s is an error kind's spelling: lower-case
// letters, digits and underscores, starting with a letter.
func isWord(s string) bool {
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// where returns the filter as an SQL condition on the results table.
func (f *Filter) where() (string, []any) {
	if f.empty() {
		return "1", nil
	}
	var terms []string
	var args []any
	if f.OK {
		terms = append(terms, "ok = 1")
	}
	if f.Failed {
		terms = append(terms, "ok = 0")
	}
	for _, k := range f.Kinds {
		terms, args = append(terms, "error_kind = ?"), append(args, k)
	}
	for _, s := range f.Statuses {
		terms, args = append(terms, "status = ?"), append(args, s)
	}
	for _, c := range f.Classes {
		terms, args = append(terms, "status BETWEEN ? AND ?"), append(args, c*100, c*100+99)
	}
	return strings.Join(terms, " OR "), args
}
