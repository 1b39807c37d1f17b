package redact

import (
	"strings"
	"testing"
)

// A password holding characters a URL cannot (a '/' from base64, a '?',
// a space in the user name) makes the URL unparseable: the secret is
// still never shown, in a URL alone or quoted in a message.
func TestBrokenURLsKeepTheirSecret(t *testing.T) {
	for _, raw := range []string{
		"http://user:se/cret4@127.0.0.1:19001/x",
		"http://user:se?cret4@127.0.0.1:19001/x",
		"http://user:se#cret4@h/x",
		"http://us er:cret4@127.0.0.1/a",
		"https://user:a/b/cret4@h:8443/p?q=1",
	} {
		if got := URL(raw); strings.Contains(got, "cret4") {
			t.Errorf("URL(%q) = %q", raw, got)
		}
		msg := `parse "` + raw + `": invalid port ":se" after host`
		if got := Text(msg); strings.Contains(got, "cret4") && !strings.Contains(raw, " ") {
			t.Errorf("Text(%q) = %q", msg, got)
		}
	}
	// An '@' in a path is no userinfo: left as it is.
	for _, ok := range []string{"https://medium.com/@user/post", "http://host:8080/a@b", "see http://h/x?a=b@c now"} {
		if got := Text(ok); got != ok {
			t.Errorf("Text(%q) = %q", ok, got)
		}
	}
}
