// Package cluster runs a gather fetch job on many machines through NATS
// JetStream: a coordinator (gather fetch --job J --cluster URL) publishes
// the job's inputs into a work stream and collects the results into its
// job file; workers (gather worker --cluster URL), on any number of
// machines, joining and leaving at will, pull the inputs, fetch them with
// the job's settings and publish the results. Nothing here is a protocol
// of its own: streams, consumers, acknowledgements, redelivery and
// key-value leases are JetStream's.
//
// # The objects of a job on the server
//
// A job is named on the server by its ID (job.Job.ID, 16 hex digits made
// from the job file's random key), so two jobs never share anything:
//
//	gather_jobs                   key-value bucket: ID -> the job's Spec (JSON)
//	GATHER_<ID>_WORK              stream, work-queue retention, subjects
//	                              gather.<ID>.work.<P>, P < Spec.Partitions;
//	                              one durable pull consumer "p<P>" each
//	GATHER_<ID>_RESULTS           stream of gather.<ID>.results
//	gather_<ID>_leases            key-value bucket, TTL Spec.LeaseTTL:
//	                              coordinator (its epoch), w.<worker>-<N>
//	                              (a worker's runner of the job, alive),
//	                              p.<P> (the runner holding partition P)
//
// The coordinator creates them (Coordinator.Start) and deletes them when
// its run ends (Coordinator.Finish). The Spec carries every setting the
// workers need (the fetch engine's configuration: per-host limits and
// rates, retries, timeouts, body policy and bound, redirects, TLS trust),
// so a worker is started with the server's address only. The requests
// themselves are made by the coordinator (templates filled, URL checked
// for its host) and travel whole, headers and body included: what the job
// sends, secrets included, is on the wire to the server and in its store.
// Use a NATS server with TLS and authentication for anything secret.
//
// # Exactly once
//
// The job file is the truth, as for a local job: the coordinator is a
// run.Run whose stage (Coordinator) publishes each input the job has no
// result for and yields the first result of each; the run stores it. An
// input's result is kept once: a second result for the same input (a
// worker killed after publishing and before acknowledging, so the input
// was delivered again) is dropped and counted (Duplicates). A worker
// publishes a result and waits for the server to have it before it
// acknowledges the input, so an input whose result may be lost is never
// let go. A worker killed mid-request loses nothing: the inputs it held
// are delivered to another after Spec.AckWait (a worker working on a long
// input says so every third of it, so a slow input is not run twice).
//
// A coordinator holds a lease on its job (the key "coordinator" of the
// lease bucket, holding its epoch): a second coordinator of the job (a
// copy of the job file, run at the same time) is refused with ErrJobBusy,
// and every work and result message carries its coordinator's epoch, so
// no result of another run is ever taken. Workers let go of a job whose
// coordinator's lease has been gone for two lease TTLs.
//
// A coordinator killed and started again with the same command purges
// the job's two streams and publishes every input the job file has no
// result for, under a new epoch: workers start the job afresh. Results
// made while no coordinator ran are made again (at most MaxPending
// inputs' worth); nothing is lost, because nothing is taken from the
// stream that the job file does not hold.
//
// A server that restarts keeps its streams (file storage). One killed
// outright may lose its last writes; the coordinator then sees inputs
// pending with no trace anywhere (not waiting, not held by a worker, no
// result to read, every publication acknowledged) for 3 seconds, and
// publishes them again (Republished).
//
// # Partitions and per-host limits
//
// Each partition is consumed by one worker at a time: a worker holds a
// lease (the key p.<P>, created only if absent, renewed with its
// revision, expiring after Spec.LeaseTTL) while it pulls from the
// partition. When a job has a per-host limit or rate, inputs are
// partitioned by a hash of their host (fetch.HostOf), so all the requests
// to one host come from one worker at a time, and that worker's engine
// keeps the limit and the rate exactly as a local run does. The cost: a
// hot host is served by one worker only, at that worker's concurrency; the
// partitions, not the workers, are the unit of spread, and a job on fewer
// hosts than workers leaves workers idle. Without a per-host limit or rate
// inputs are partitioned by line, and every worker takes a share.
//
// Each worker takes the partitions divided by the workers alive, rounded
// up. A worker that joins makes the others let go of partitions beyond
// their new share, each once its inputs held from it are finished (so a
// host never has two workers' requests at once), and takes the ones let
// go. A worker that stops answering loses its leases after Spec.LeaseTTL;
// a worker that cannot renew a lease for three quarters of it (the server
// away, or the worker paused) cancels the partition's requests and gives
// its inputs back, by a timer, before another may take it. A worker
// frozen and thawed may start a request in the instant before that timer
// fires: the limit holds for workers that run, die or freeze, up to that.
//
// A global rate (--rate) is one process's and cannot hold across workers:
// gather fetch refuses it with --cluster. A per-host rate can: the host's
// limiter moves with its partition (a handover may let two requests of a
// host go within one interval of the rate).
//
// # Bounds
//
// The coordinator publishes at most MaxPending inputs not yet answered,
// and keeps each one's message until its result comes: memory is bounded
// by MaxPending, never by the input. As with a local run's read-ahead, a
// slow host's inputs can fill that window and hold the others back: raise
// --max-pending, or give a slow host a job of its own. A request larger
// than the server's max_payload (its body included) is the input's
// bad_input error, answered by the coordinator. A worker holds at most
// twice its concurrency of inputs per job, the ones in flight and as many
// read ahead, pulled in batches (twice that while the runner of a
// coordinator's earlier run still finishes what it holds). A result (with the body kept, --body
// text) must fit in the server's max_payload (8 MiB for gather nats, 1 MiB
// for a default nats-server): a larger one is the input's too_large error.
//
// # Stopping
//
// Stopping the coordinator (Ctrl-C) stops its publishing and tells the
// workers, through the spec, to start nothing new; the inputs they hold
// finish and are stored within the grace period, and the inputs still
// waiting in the stream end cancelled as soon as no worker holds one,
// to run on the next run of the job. Stopping a worker finishes what it
// holds and lets its partitions go; a second Ctrl-C gives its inputs
// back at once.
package cluster
