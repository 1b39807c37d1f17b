package job

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Settings are compared by key: a flag renamed since the job was made
// does not make the job refuse its runs, and messages name the setting
// as the run does.
func TestSettingsAreComparedByKeyAndNamedAsTheRunNamesThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	ctx := context.Background()
	made := []Setting{{Key: "method", Name: "--method", Value: "GET"}, {Key: "url_template", Name: "--url", Value: "http://h/${{ .id }}", URLs: true}}
	j, err := Open(ctx, path, made, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	renamed := []Setting{{Key: "method", Name: "--verb", Value: "GET"}, {Key: "url_template", Name: "--url-template", Value: "http://h/${{ .id }}", URLs: true}}
	if j, err = Open(ctx, path, renamed, nil); err != nil {
		t.Fatalf("a renamed flag: %v", err)
	}
	j.Close()
	renamed[0].Value = "POST"
	_, err = Open(ctx, path, renamed, nil)
	if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), `--verb was "GET", this run has "POST"`) {
		t.Errorf("another method: %v; want ErrSettings naming --verb", err)
	}
}

// A job whose settings were stored under gather fetch's flags (schema 1)
// is compared by key; Open then stores them by key.
func TestSettingsStoredUnderFlagNamesAreReadByKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	ctx := context.Background()
	b, err := Build(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	legacy := []Setting{{Name: "--method", Value: "GET"}, {Name: "--header", Value: "Authorization: Bearer tok-123"}, {Name: "--some-other", Value: "x"}}
	if err := b.SetSettings(ctx, legacy, true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	now := []Setting{{Key: "method", Name: "--method", Value: "GET"}, {Key: "headers", Name: "-H", Value: "Authorization: Bearer tok-123", Headers: true}, {Key: "--some-other", Value: "x"}}
	j, err := Open(ctx, path, now, nil)
	if err != nil {
		t.Fatalf("the run's settings, by key: %v", err)
	}
	j.Close()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, _ := r.Meta(ctx)
	stored := m.Values["settings"]
	if !strings.Contains(stored, `{"key":"method","value":"GET"}`) || !strings.Contains(stored, `{"key":"--some-other","value":"x"}`) || strings.Contains(stored, "tok-123") {
		t.Errorf("stored as %s; want by key, the token hashed", stored)
	}
	if m.Settings[1].Key != "headers" || m.Settings[1].Name != "--header" {
		t.Errorf("read as %+v", m.Settings)
	}
}

// A header given with its name in another case than the job's is the
// same header: the refusal says so, not that the order differs.
func TestHeaderNameInAnotherCaseIsSaidSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	ctx := context.Background()
	j, err := Open(ctx, path, []Setting{{Key: "headers", Name: "-H", Value: "Authorization: Bearer t", Headers: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	_, err = Open(ctx, path, []Setting{{Key: "headers", Name: "-H", Value: "authorization: Bearer t", Headers: true}}, nil)
	if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "wrote the name as Authorization") {
		t.Errorf("%v", err)
	}
}
