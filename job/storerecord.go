package job

// This file is the only one of package job that imports package fetch: it
// goes once gather fetch hands Store a Result and passes ParseFilter its
// error kinds (fetch.Kinds()).

import (
	"fmt"

	"github.com/gogather/gather/fetch"
)

func init() {
	defaultKinds = func() []string {
		var names []string
		for _, k := range fetch.Kinds() {
			names = append(names, string(k))
		}
		return names
	}
}

// StoreRecord stores a fetch record, as Store.
//
// Deprecated: a bridge while callers move to Store; it goes with this
// file.
func (j *Job) StoreRecord(rec fetch.Record) error {
	text, err := rec.AppendJSON(nil)
	if err != nil {
		return fmt.Errorf("encoding the result of line %d: %w", rec.Line, err)
	}
	r := Result{Line: rec.Line, OK: rec.Error == nil, Host: schemeHost(rec.URL, fetch.HostOf(rec.URL)), Status: rec.Status,
		Attempts: rec.Attempts, MS: rec.MS, Bytes: rec.Bytes, Record: text}
	if rec.Error != nil {
		r.Kind = string(rec.Error.Kind)
	}
	return j.Store(r)
}
