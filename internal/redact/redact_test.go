package redact_test

import (
	"strings"
	"testing"

	"github.com/gogather/gather/internal/redact"
)

func TestURLMasksThePasswordAndKeepsTheRest(t *testing.T) {
	for in, want := range map[string]string{
		"https://alice:s3cret@example.com/p?q=1": "https://alice:xxxxx@example.com/p?q=1",
		"https://alice@example.com/p":            "https://xxxxx@example.com/p",
		"http://ghp_TOKEN1@127.0.0.1:1/a":        "http://xxxxx@127.0.0.1:1/a",
		"https://example.com/p?email=a@b.c":      "https://example.com/p?email=a@b.c",
		"http://u:p@h:8080":                      "http://u:xxxxx@h:8080",
		"not a url but://u:pw@host x":            "not a url but://u:xxxxx@host x",
		"http://u:p%zz@host/":                    "http://u:xxxxx@host/",
	} {
		if got := redact.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextMasksEveryURLInAMessage(t *testing.T) {
	in := `Get "https://bob:hunter2@a.example/x": dial tcp; then http://c:d@b.example?x=1 and https://e@f.example/`
	got := redact.Text(in)
	for _, secret := range []string{"hunter2", ":d@"} {
		if strings.Contains(got, secret) {
			t.Errorf("Text left %q in %q", secret, got)
		}
	}
	want := `Get "https://bob:xxxxx@a.example/x": dial tcp; then http://c:xxxxx@b.example?x=1 and https://xxxxx@f.example/`
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if plain := "no secrets here: user@example.com"; redact.Text(plain) != plain {
		t.Errorf("Text changed %q", plain)
	}
}

func FuzzTextNeverLeavesAPasswordAfterScheme(f *testing.F) {
	f.Add("https://u:pw@h/")
	f.Fuzz(func(t *testing.T, s string) {
		out := redact.Text(s)
		if !strings.Contains(s, "@") && out != s {
			t.Fatalf("changed text without @: %q -> %q", s, out)
		}
	})
}

func TestSensitiveHeaderNames(t *testing.T) {
	for _, name := range []string{"Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "X-Api-Key",
		"X-Auth-Token", "X-Password", "x-passwd", "X-Session-Id", "X-Secret", "X-Credentials"} {
		if !redact.SensitiveHeader(name) {
			t.Errorf("%s not sensitive", name)
		}
	}
	for _, name := range []string{"Accept", "Content-Type", "User-Agent", "X-Request-Id"} {
		if redact.SensitiveHeader(name) {
			t.Errorf("%s sensitive", name)
		}
	}
	if redact.Header("Authorization", "Bearer x") != redact.Mask || redact.Header("Accept", "a/b") != "a/b" {
		t.Error("Header does not mask by name")
	}
}
