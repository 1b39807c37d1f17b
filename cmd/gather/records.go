package main

import (
	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/run"
)

// isClosedOutput reports whether a write failed because its reader went
// away (gather fetch | head -1): see run.IsClosedOutput.
func isClosedOutput(err error) bool { return run.IsClosedOutput(err) }

// decodeRecord decodes a record stored in a job: see run.DecodeRecord.
func decodeRecord(b []byte, r *fetch.Record) error { return run.DecodeRecord(b, r) }
