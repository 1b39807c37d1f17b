package fetch_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// A sensitive header whose value holds a control character is named in
// the message, its value hidden: in the record of a request's own header,
// and in New's error for Config.Header. Another header's value is shown.
func TestHeaderMessagesHideSensitiveValues(t *testing.T) {
	t.Parallel()
	const secret = "SECRETTOK123"
	for _, name := range []string{"Authorization", "X-Api-Key", "Cookie"} {
		_, err := fetch.New(fetch.Config{Header: http.Header{name: {"Bearer " + secret + "\n"}}})
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), name) {
			t.Errorf("New with a bad %s: %v", name, err)
		}
	}
	client := newClient(t, fetch.Config{Retries: -1})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: "http://127.0.0.1:1/",
		Header: http.Header{"Authorization": {"Bearer " + secret + "\n"}}})
	if kindOf(rec) != fetch.KindBadInput || strings.Contains(rec.Error.Message, secret) || !strings.Contains(rec.Error.Message, "Authorization") {
		t.Errorf("a request's bad Authorization: %+v", rec.Error)
	}
	rec = client.Do(context.Background(), fetch.Request{Line: 2, URL: "http://127.0.0.1:1/",
		Header: http.Header{"X-Trace": {"plain\x01value"}}})
	if kindOf(rec) != fetch.KindBadInput || !strings.Contains(rec.Error.Message, `plain\x01value`) {
		t.Errorf("a request's bad X-Trace: %+v", rec.Error)
	}
}

// The timeout_headers message says the limit, as the attempt timeout's
// does.
func TestHeaderTimeoutMessageSaysTheLimit(t *testing.T) {
	t.Parallel()
	base, _ := hostile(t, func(c net.Conn, _ string) { io.Copy(io.Discard, c) })
	client := newClient(t, fetch.Config{Retries: -1, HeaderTimeout: 150 * time.Millisecond})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/h"})
	if kindOf(rec) != fetch.KindTimeoutHeaders || !strings.Contains(rec.Error.Message, "headers timeout of 150ms") {
		t.Errorf("%+v", rec.Error)
	}
}

// A header name that is not a token and looks sensitive may carry its
// value ("Authorization=Bearer ..."): only its token prefix is shown.
func TestInvalidSensitiveHeaderNameHidden(t *testing.T) {
	t.Parallel()
	_, err := fetch.New(fetch.Config{Header: http.Header{"Authorization=Bearer SECRETTOK123": {"x"}}})
	if err == nil || strings.Contains(err.Error(), "SECRETTOK123") || !strings.Contains(err.Error(), "Authorization") {
		t.Errorf("New: %v", err)
	}
}
