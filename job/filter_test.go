package job

import (
	"reflect"
	"strings"
	"testing"
)

// ParseFilter reads the one grammar of export --status and
// --retry-failed: outcomes, error kinds, statuses (0 and none: no
// response), classes 1xx to 5xx.
func TestParseFilterReadsOutcomesKindsStatusesAndClasses(t *testing.T) {
	kinds := []string{"dns", "timeout_total", "http_status"}
	for _, c := range []struct {
		in   string
		want Filter
	}{
		{"", Filter{}},
		{"all", Filter{}},
		{" all ", Filter{}},
		{"ok", Filter{OK: true}},
		{"failed", Filter{Failed: true}},
		{"dns, timeout_total", Filter{Kinds: []string{"dns", "timeout_total"}}},
		{"503,404", Filter{Statuses: []int{503, 404}}},
		{"0", Filter{Statuses: []int{0}}},
		{"none", Filter{Statuses: []int{0}}},
		{"100,999", Filter{Statuses: []int{100, 999}}},
		{"1xx,5XX", Filter{Classes: []int{1, 5}}},
		{"failed,5xx,dns,0", Filter{Failed: true, Kinds: []string{"dns"}, Statuses: []int{0}, Classes: []int{5}}},
	} {
		f, err := ParseFilter(c.in, kinds...)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(*f, c.want) {
			t.Errorf("%q: %+v, want %+v", c.in, *f, c.want)
		}
	}
}

// Its errors say what is wrong and where in the list.
func TestParseFilterErrorsSayWhatAndWhere(t *testing.T) {
	kinds := []string{"dns", "timeout_total"}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"6xx", []string{`"6xx"`, "1xx to 5xx"}},
		{"0xx", []string{`"0xx"`, "1xx to 5xx"}},
		{"9xx", []string{`"9xx"`}},
		{"99", []string{`"99" is neither`, "100 to 999"}},
		{"1", []string{`"1" is neither`}},
		{"1000", []string{`"1000" is neither`}},
		{"abc", []string{`"abc" is neither`, "dns, timeout_total"}},
		{"5xx,6xx", []string{`item 2 of "5xx,6xx"`, `"6xx"`}},
		{"dns,,503", []string{`item 2 of "dns,,503"`, "empty"}},
		{"dns,all", []string{`item 2`, "alone"}},
		{"dns,Tim-eout", []string{`item 2`, `"Tim-eout"`}},
	} {
		_, err := ParseFilter(c.in, kinds...)
		if err == nil {
			t.Errorf("%q: accepted", c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q does not say %q", c.in, err, w)
			}
		}
	}
}

// With the caller's kinds, another word is an error naming them; without
// them, any word is a kind.
func TestParseFilterKnownKinds(t *testing.T) {
	known := []string{"dns", "timeout_total"}
	if _, err := ParseFilter("nope", known...); err == nil || !strings.Contains(err.Error(), "timeout_total") {
		t.Errorf("an unknown kind: %v; want an error naming the known kinds", err)
	}
	if _, err := ParseFilter("timeout_total,dns", known...); err != nil {
		t.Error(err)
	}
	if f, err := ParseFilter("flow_step"); err != nil || len(f.Kinds) != 1 {
		t.Errorf("without known kinds: %+v, %v", f, err)
	}
}

// Items are read in any case: DNS, OK and 5XX are dns, ok and 5xx.
func TestParseFilterIgnoresCase(t *testing.T) {
	f, err := ParseFilter("DNS, OK ,5XX,None", "dns")
	if err != nil || len(f.Kinds) != 1 || !f.OK || len(f.Classes) != 1 || len(f.Statuses) != 1 {
		t.Fatalf("%+v, %v", f, err)
	}
}
