package job

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
)

// A Filter selects the failed results that --retry-failed runs again: those
// of the given error kinds, exact statuses or status classes. An empty
// Filter selects every failure.
type Filter struct {
	Kinds    []fetch.Kind
	Statuses []int // exact statuses: 503
	Classes  []int // status classes: 5 for 5xx
}

// ParseFilter parses a comma-separated list of error kinds (timeout_total),
// statuses (503) and status classes (5xx); "" or "all" is every failure.
func ParseFilter(s string) (*Filter, error) {
	f := &Filter{}
	if s == "" || s == "all" {
		return f, nil
	}
	for _, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		switch {
		case len(tok) == 3 && tok[1:] == "xx" && tok[0] >= '1' && tok[0] <= '5':
			f.Classes = append(f.Classes, int(tok[0]-'0'))
		case tok != "" && tok[0] >= '0' && tok[0] <= '9':
			n, err := strconv.Atoi(tok)
			if err != nil || n < 100 || n > 999 {
				return nil, fmt.Errorf("%q is not an HTTP status (100 to 999) or class (5xx)", tok)
			}
			f.Statuses = append(f.Statuses, n)
		case fetch.KnownKind(fetch.Kind(tok)):
			f.Kinds = append(f.Kinds, fetch.Kind(tok))
		default:
			return nil, fmt.Errorf("%q is neither an error kind (%s), a status nor a status class", tok, strings.Join(kindNames(), ", "))
		}
	}
	return f, nil
}

func kindNames() []string {
	var names []string
	for _, k := range fetch.Kinds() {
		names = append(names, string(k))
	}
	return names
}

// where returns the filter as an SQL condition on the results table.
func (f *Filter) where() (string, []any) {
	if len(f.Kinds)+len(f.Statuses)+len(f.Classes) == 0 {
		return "1", nil
	}
	var terms []string
	var args []any
	for _, k := range f.Kinds {
		terms, args = append(terms, "error_kind = ?"), append(args, string(k))
	}
	for _, s := range f.Statuses {
		terms, args = append(terms, "status = ?"), append(args, s)
	}
	for _, c := range f.Classes {
		terms, args = append(terms, "status / 100 = ?"), append(args, c)
	}
	return strings.Join(terms, " OR "), args
}
