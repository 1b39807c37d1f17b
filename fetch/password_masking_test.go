package fetch_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
)

// No error message shows a URL's password; the record's url stays as
// given (it is the user's data); a final_url that came from a redirect's
// Location is masked.
func TestMessagesMaskPasswords(t *testing.T) {
	t.Parallel()
	var target string
	base, _ := hostile(t, func(c net.Conn, line string) {
		if strings.HasPrefix(line, "GET /start ") {
			io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: "+target+"\r\nContent-Length: 0\r\n\r\n")
			return
		}
		io.WriteString(c, "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n")
	})
	target = strings.Replace(base, "http://", "http://bob:hunter2@", 1) + "/next"
	client := newClient(t, fetch.Config{Retries: 1, RetryBase: 1})
	for _, req := range []fetch.Request{
		{Line: 1, URL: "http://alice:s3cret@h:99999/"},
		{Line: 2, URL: "http://alice:s3cret@127.0.0.1:1/"},
		{Line: 3, URL: "http://alice:s3cret@<bad>/"},
		{Line: 4, URL: "alice:s3cret@example.com/x"},
		{Line: 5, URL: "http://alice:s3cret@h/x", Err: errors.New(`template: "http://alice:s3cret@h/x" failed`)},
		{Line: 6, URL: "http://alice:s3cret@h/p%zz"},
		{Line: 7, URL: base + "/start"},
	} {
		rec := client.Do(context.Background(), req)
		if rec.Error == nil {
			t.Fatalf("line %d: no error: %+v", req.Line, rec)
		}
		msgs := []string{rec.Error.Message, rec.FinalURL}
		for _, a := range rec.Retries {
			if a.Error != nil {
				msgs = append(msgs, a.Error.Message)
			}
		}
		for _, m := range msgs {
			if strings.Contains(m, "s3cret") || strings.Contains(m, "hunter2") {
				t.Errorf("line %d: a password shows: %q", req.Line, m)
			}
		}
		if rec.URL != req.URL {
			t.Errorf("line %d: url %q changed", req.Line, rec.URL)
		}
		if req.Line == 7 && rec.FinalURL != strings.Replace(target, "hunter2", "xxxxx", 1) {
			t.Errorf("final_url %q, want the Location's password masked", rec.FinalURL)
		}
	}
}

// A URL whose password makes it unparseable (a '/' from base64, a '?', a
// space in the user name) is a bad input whose message shows no part of
// the password.
func TestUnparseableURLMessageHidesThePassword(t *testing.T) {
	c, err := fetch.New(fetch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, u := range []string{"http://user:se/cret4@127.0.0.1:1/x", "http://user:se?cret4@127.0.0.1:1/", "http://us er:secret4@127.0.0.1:1/a"} {
		rec := c.Do(context.Background(), fetch.Request{Line: 1, Method: "GET", URL: u})
		if rec.Error == nil || rec.Error.Kind != fetch.KindBadInput {
			t.Fatalf("%s: %+v", u, rec.Error)
		}
		if strings.Contains(rec.Error.Message, "cret4") || strings.Contains(rec.Error.Message, ":se") {
			t.Errorf("%s: message %q", u, rec.Error.Message)
		}
	}
}
