package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/jobfixture"
)

// A URL's password never shows in a report, as text, HTML or JSON: not in
// the first failure's URL, not in its message.
func TestReportMasksURLPasswords(t *testing.T) {
	results := []jobfixture.Result{
		{Line: 1, URL: "https://alice:s3cret-pw@a.test/1", Kind: fetch.KindConnect,
			Message: `Get "https://alice:s3cret-pw@a.test/1": connection refused`, Attempts: 1, MS: 5, Finished: 1000},
		{Line: 2, URL: "http://bob:hunter2@b.test/2", Status: 500, Kind: fetch.KindHTTPStatus,
			Message: "500 from http://bob:hunter2@b.test/2", Attempts: 1, MS: 7, Finished: 1001},
		{Line: 3, URL: "http://b.test/3", Status: 200, Attempts: 1, MS: 3, Finished: 1002},
	}
	r := load(t, writeFixture(t, results, 3))
	var text, html bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(r)
	for what, out := range map[string]string{"text": text.String(), "HTML": html.String(), "JSON": string(js)} {
		for _, secret := range []string{"s3cret-pw", "hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("the %s report shows the password %q", what, secret)
			}
		}
		if !strings.Contains(out, "alice:xxxxx@a.test") {
			t.Errorf("the %s report does not show the masked URL", what)
		}
	}
}
