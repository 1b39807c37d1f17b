package run

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/template"
)

// FetchSettings are what define a fetch job's results: a run with other
// values is refused by the job (job.ErrSettings). Pace (concurrency,
// rates, per-host limits), retries and timeouts are not among them: they
// may change from run to run. The cluster's coordinator sends the same
// settings to its workers.
type FetchSettings struct {
	Format   Format
	Requests template.RequestSpec
	// BodyFile says Requests.Body came from a file: the job keeps its
	// SHA-256, the file's content rather than its name.
	BodyFile bool
	// BodyPolicy is the body policy as given: hash, text, base64, head,
	// or dir:DIR.
	BodyPolicy   string
	BodyHead     int
	MaxBody      int64
	MaxRedirects int
}

// JobSettings returns the settings as a job keeps them: stable keys (the
// job file stores them; they never change), named in messages by gather
// fetch's flags. A URL's password and a sensitive header's value are kept
// as keyed hashes (job.Setting's URLs and Headers).
func (s FetchSettings) JobSettings() []job.Setting {
	body := string(s.Requests.Body)
	if s.BodyFile {
		sum := sha256.Sum256(s.Requests.Body)
		body = "sha256:" + hex.EncodeToString(sum[:])
	}
	method := s.Requests.Method
	if method == "" {
		method = "GET"
	}
	return []job.Setting{
		{Key: "input_format", Name: "--input-format", Value: string(s.Format)},
		{Key: "url_template", Name: "--url", Value: s.Requests.URL, URLs: true},
		{Key: "method", Name: "--method", Value: method},
		{Key: "headers", Name: "--header", Value: strings.Join(s.Requests.Headers, "\n"), Headers: true},
		{Key: "body", Name: "--data", Value: body, URLs: true},
		{Key: "keep", Name: "--keep", Value: strings.Join(s.Requests.Keep, ",")},
		{Key: "body_policy", Name: "--body", Value: s.BodyPolicy},
		{Key: "body_head", Name: "--body-head", Value: strconv.Itoa(s.BodyHead)},
		{Key: "max_body", Name: "--max-body", Value: strconv.FormatInt(s.MaxBody, 10)},
		{Key: "max_redirects", Name: "--max-redirects", Value: strconv.Itoa(s.MaxRedirects)},
	}
}

// fetchKinds returns fetch's error kinds as strings, as job.ParseFilter
// takes them.
func fetchKinds() []string {
	var names []string
	for _, k := range fetch.Kinds() {
		names = append(names, string(k))
	}
	return names
}

// ParseFetchFilter parses a filter of a fetch job's results (the grammar
// of job.ParseFilter, with fetch's error kinds known).
func ParseFetchFilter(s string) (*job.Filter, error) { return job.ParseFilter(s, fetchKinds()...) }
