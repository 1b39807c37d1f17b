package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
)

// WriteFromJob writes every result stored in the job at jobPath to path,
// in input order, through the writer newWriter makes: to a temporary file beside it,
// synced, then renamed over it. A kill at any moment leaves path as the
// previous run wrote it (or absent), never half written; only a
// temporary file (.NAME.gather-DIGITS.tmp) may be left, which the next
// run removes (atomicfile.Write).
func WriteFromJob(ctx context.Context, jobPath, path string, newWriter func(io.Writer) output.Writer) error {
	err := atomicfile.Write(path, func(tmp io.Writer) error {
		r, err := job.OpenReader(ctx, jobPath, job.AfterClose()) // checked whole unless this process just closed it cleanly
		if err != nil {
			return err
		}
		defer r.Close()
		w := newWriter(tmp)
		raw, _ := w.(output.JSONWriter)
		for res, err := range r.Results(ctx, nil) {
			if err != nil {
				return err
			}
			if raw != nil {
				err = raw.WriteJSON(res.Line, res.Record) // as stored: the record as fetch wrote it
			} else {
				var rec fetch.Record
				if err = DecodeRecord(res.Record, &rec); err == nil {
					err = w.Write(rec)
				}
			}
			if err != nil {
				return err
			}
		}
		return w.Flush()
	})
	if err != nil {
		return fmt.Errorf("-o %s: writing it from the job: %w; the file is as the previous run left it", path, err)
	}
	return nil
}

// DecodeRecord decodes a record stored in a job. Numbers in kept input
// fields stay json.Number, written as the input wrote them
// (12345678901234567890, 1.50), as the streamed output does.
func DecodeRecord(b []byte, r *fetch.Record) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(r); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("invalid character after top-level value")
	}
	return nil
}
