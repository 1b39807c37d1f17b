// Package run is the pipeline every bulk command of gather runs: positioned
// input records in, a work stage, outcomes out to a sink and to a job, a
// stop in two phases, and one summary. gather fetch is this pipeline with
// the Fetch stage; a flow run per record, a cluster worker and a gateway
// are other stages on the same pipeline, never copies of it.
//
//	r := run.New(run.Config{
//		Input: file, Format: run.Lines,
//		Stage: run.Fetch{Client: client, Requests: requests},
//		Sink:  run.Records(output.JSONL(os.Stdout)),
//		Job:   j, // optional: exactly-once resume
//		Log:   os.Stderr,
//	})
//	go func() { <-interrupt; r.Stop(); <-interrupt; r.Cancel() }()
//	res, err := r.Run(ctx)
//
// # The pipeline
//
// The input is read as a stream, in its format (plain lines, CSV, JSONL),
// each record with its line number and the position just after it; a
// plain list's blank lines and # comments, and blank lines of CSV and
// JSONL, are skipped and counted, never failures. A record that cannot be
// read is an Item with Err: the stage makes it a bad input outcome. The
// stage pulls items only as fast as it has room for them, so memory is
// bounded by its concurrency, never by the input's size.
//
// Every item yields exactly one Outcome, which Run counts in the summary,
// stores in the job (if any) and writes to the sink, in the order the
// outcomes complete, from the goroutine that called Run. The sink is
// flushed at least every FlushEvery.
//
// # The job
//
// With a Job, Run runs the job's protocol: the input is checked against
// the job and read from its checkpoint (job.Input), every record is told
// to the job in order (Take, or Pass for a skipped line) and only those
// without a stored result reach the stage, every outcome but a cancelled
// one is stored, the end of the input is told (Ended) only when the input
// was read to its end (not cut short by a stop or a read error), and Run
// closes the job. Killing the process at any instant and running again
// with the same input finishes the job with each input's result stored
// exactly once (package job says how).
//
// # Stopping
//
// A run stops in two phases. Stop (Ctrl-C's first press) stops starting
// work: no item is read after it and the stage starts nothing new; the
// work in flight has Config.Grace to finish, then is cancelled. Cancel
// (the second press) cancels the work in flight at once. A cancelled item
// ends with an outcome of kind job.Canceled: written to the sink, not
// stored, run again on resume. The caller's context ending is a Cancel.
// A sink whose reader went away (IsClosedOutput: a broken pipe) stops the
// run as Stop does, and the job goes on storing what finishes. A job whose
// writer fails (a full disk) cancels the run, and Run returns the error.
//
// Run writes only to Config.Log (the summary and notes) and the sink,
// never to the process's standard streams: every behaviour, stopping and
// resuming included, is testable in-process. Signals are the caller's to
// turn into Stop and Cancel.
//
// # Design choices
//
//   - The stage is an iter.Seq to iter.Seq function (Stage.Run) rather
//     than a per-item callback, so that a stage schedules its own work
//     (the fetch engine's per-host fairness and read-ahead) and the
//     pipeline stays one loop that owns the sink and the job: one
//     goroutine writes, so a sink need not be safe for concurrent use.
//   - An Outcome carries the neutral envelope a job stores (job.Result:
//     line, ok, kind, host, status, attempts, ms, bytes, the record's JSON)
//     and the stage's own record: a record is encoded to JSON once and the
//     same bytes go to the job and to a JSON lines sink.
//   - The package knows the fetch engine (Fetch, Records) because every
//     bulk command today fetches; other stages live with their engines
//     and implement Stage.
package run
