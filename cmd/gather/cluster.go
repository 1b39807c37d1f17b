package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gogather/gather/cluster"
	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/template"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// clusterFlags are the flags of a coordinator (gather fetch --cluster).
type clusterFlags struct {
	natsFlags
	maxPending int
	partitions int
	ackWait    time.Duration
	leaseTTL   time.Duration
	set        map[string]bool // the cluster flags given
}

func (c *clusterFlags) register(fl *pflag.FlagSet) {
	c.natsFlags.register(fl, "with --job: run the job on the workers of this NATS JetStream server (nats://HOST:PORT), as its coordinator")
	fl.IntVar(&c.maxPending, "max-pending", cluster.DefaultMaxPending, "with --cluster: the most inputs published and not answered; publishing waits past it")
	fl.IntVar(&c.partitions, "partitions", cluster.DefaultPartitions, "with --cluster: work subjects, each consumed by one worker at a time (by host with --per-host or --per-host-rate)")
	fl.DurationVar(&c.ackWait, "ack-wait", cluster.DefaultAckWait, "with --cluster: how long a worker that stopped answering keeps its inputs before they go to another")
	fl.DurationVar(&c.leaseTTL, "lease-ttl", cluster.DefaultLeaseTTL, "with --cluster: how long a worker that stopped answering keeps its partitions")
}

// changed records which of the cluster flags were given.
func (c *clusterFlags) changed(fl *pflag.FlagSet) {
	c.set = map[string]bool{}
	for _, name := range []string{"cluster", "max-pending", "partitions", "ack-wait", "lease-ttl", "cluster-creds", "cluster-ca"} {
		c.set[name] = fl.Changed(name)
	}
}

// check refuses cluster flags that make no sense with the fetch flags f.
func (c *clusterFlags) check(f *fetchFlags, concurrencySet bool) error {
	if c.url == "" {
		for _, name := range []string{"max-pending", "partitions", "ack-wait", "lease-ttl", "cluster-creds", "cluster-ca"} {
			if c.set[name] {
				return usageError("--%s needs --cluster", name)
			}
		}
		if c.set["cluster"] {
			return usageError("--cluster: empty address (nats://HOST:PORT)")
		}
		return nil
	}
	switch {
	case f.job == "":
		return usageError("--cluster needs --job: the job file is where the workers' results are collected, exactly once")
	case concurrencySet:
		return usageError("-c is each worker's with --cluster: give it to gather worker")
	case f.cfg.Rate > 0:
		return usageError("--rate is one process's rate and cannot hold across workers; with --cluster use --per-host-rate, which does")
	case f.cfg.Ordered:
		return usageError("--ordered cannot hold with --cluster: results come from several workers (gather export writes a job's results in input order)")
	case strings.HasPrefix(f.body, "dir"):
		return usageError("--body dir cannot be used with --cluster: the bodies would be saved on the workers' machines")
	case c.maxPending < 1 || c.maxPending > 10_000_000:
		return usageError("--max-pending must be 1 to 10000000, got %d", c.maxPending)
	case c.partitions < 1 || c.partitions > cluster.MaxPartitions:
		return usageError("--partitions must be 1 to %d, got %d", cluster.MaxPartitions, c.partitions)
	case c.ackWait < time.Second || c.ackWait > 24*time.Hour:
		return usageError("--ack-wait must be 1s to 24h, got %v", c.ackWait)
	case c.leaseTTL < time.Second || c.leaseTTL > time.Hour:
		return usageError("--lease-ttl must be 1s to 1h, got %v", c.leaseTTL)
	}
	return nil
}

// natsFlags say how to reach the NATS server: its address, and the
// credentials and CA of a server with authentication and TLS.
type natsFlags struct {
	url, creds, ca string
}

func (n *natsFlags) register(fl *pflag.FlagSet, usage string) {
	fl.StringVar(&n.url, "cluster", "", usage)
	fl.StringVar(&n.creds, "cluster-creds", "", "with --cluster: a NATS credentials file (user JWT and nkey seed), rather than a password in the URL, which ps shows")
	fl.StringVar(&n.ca, "cluster-ca", "", "with --cluster: trust the PEM certificates of this file for the server's TLS (tls://HOST:PORT)")
}

// connect connects to the NATS server as name; the connection reconnects
// for ever (a server restarting loses nothing). With wait, a server not
// up yet is waited for, rather than an error.
func (n *natsFlags) connect(name string, wait bool) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(wait)}
	for _, f := range []struct{ flag, path string }{{"--cluster-creds", n.creds}, {"--cluster-ca", n.ca}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, nil, usageError("%s: %v", f.flag, err)
		}
	}
	if n.creds != "" {
		opts = append(opts, nats.UserCredentials(n.creds))
	}
	if n.ca != "" {
		opts = append(opts, nats.RootCAs(n.ca))
	}
	nc, err := nats.Connect(n.url, opts...)
	if err != nil {
		return nil, nil, &exitError{exitRuntime, fmt.Errorf("--cluster %s: %v", redact.URL(n.url), err)}
	}
	// A publication to a server that went away fails after a while,
	// rather than never: it is then published again.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		nc.Close()
		return nil, nil, &exitError{exitRuntime, fmt.Errorf("--cluster %s: %v", redact.URL(n.url), err)}
	}
	return nc, js, nil
}

// writeWorkers writes what each worker did, and the results dropped.
func writeWorkers(w io.Writer, c *cluster.Coordinator) {
	if w == nil {
		return
	}
	for _, wc := range c.Workers() {
		plural := "s"
		if wc.Results == 1 {
			plural = ""
		}
		fmt.Fprintf(w, "worker %s: %d result%s, %.0f/s\n", wc.Worker, wc.Results, plural, wc.PerSecond)
	}
	if dups, bad := c.Duplicates(); dups > 0 || bad > 0 {
		fmt.Fprintf(w, "results dropped: %d duplicate or stale (an input answered already, redelivered, or of another run), %d unreadable\n", dups, bad)
	}
	if n := c.Republished(); n > 0 {
		fmt.Fprintf(w, "inputs published again: %d (lost by the server)\n", n)
	}
}

func newNATSCommand() *cobra.Command {
	var addr, store string
	cmd := &cobra.Command{
		Use:   "nats --store DIR",
		Short: "Run an embedded NATS server with JetStream, for gather fetch --cluster and gather worker",
		Long: `Nats runs a NATS server with JetStream from the nats-server Go module,
keeping its streams in --store, for a cluster on one machine or a test. A
real deployment points --cluster at any NATS server with JetStream enabled
(nats-server -js). Ctrl-C or SIGTERM stops it; its streams stay in --store
and a server started again on the same store resumes them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if store == "" {
				return usageError("--store DIR is needed: where the server keeps its streams")
			}
			if err := os.MkdirAll(store, 0o755); err != nil {
				return usageError("--store: %v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := cluster.StartServer(addr, store)
			if err != nil {
				return &exitError{exitRuntime, err}
			}
			fmt.Fprintf(stdio.err, "gather nats: JetStream on %s, store %s; Ctrl-C stops\n", s.ClientURL(), store)
			<-ctx.Done()
			fmt.Fprintln(stdio.err, "gather nats: stopping")
			s.Close()
			fmt.Fprintln(stdio.err, "gather nats: stopped; the streams are kept in", store)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:4222", "address to listen on (host:port)")
	fl.StringVar(&store, "store", "", "directory of the server's streams")
	return cmd
}

func newWorkerCommand() *cobra.Command {
	var conn natsFlags
	var name string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "worker --cluster nats://HOST:PORT",
		Short: "Run the inputs of cluster jobs (gather fetch --cluster) from a NATS JetStream server",
		Long: `Worker runs the inputs of every job the coordinators (gather fetch --job J
--cluster URL) publish on the server, with each job's settings: it needs
no flag but the server's address. Workers may join and leave at any time;
each takes a fair share of a job's partitions. Ctrl-C stops taking inputs,
finishes the ones held (their results are published) and exits; a second
Ctrl-C gives them back to the server at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if conn.url == "" {
				return usageError("--cluster nats://HOST:PORT is needed")
			}
			if concurrency < 1 || concurrency > maxConcurrency {
				return usageError("--concurrency must be 1 to %d, got %d", maxConcurrency, concurrency)
			}
			nc, js, err := conn.connect("gather worker", true)
			if err != nil {
				return err
			}
			defer nc.Close()
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			stopCtx, stop := context.WithCancel(ctx)
			defer stop()
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			go func() {
				select {
				case <-sigs:
				case <-ctx.Done():
					return
				}
				fmt.Fprintln(stdio.err, "gather worker: stopping: finishing the inputs held (Ctrl-C again to give them back now)")
				stop()
				select {
				case <-sigs:
				case <-ctx.Done():
					return
				}
				cancel()
			}()
			w := &cluster.Worker{JS: js, Name: name, Concurrency: concurrency, Log: slog.New(slog.NewTextHandler(stdio.err, nil))}
			if !nc.IsConnected() {
				fmt.Fprintf(stdio.err, "gather worker: %s does not answer yet: trying again until it does\n", redact.URL(conn.url))
			}
			fmt.Fprintf(stdio.err, "gather worker: waiting for jobs on %s; Ctrl-C stops\n", redact.URL(conn.url))
			if err := w.Run(ctx, stopCtx); err != nil {
				return &exitError{exitRuntime, err}
			}
			// The last acknowledgements are sent; a server that is
			// down gets them redelivered instead (results are kept once).
			if nc.IsConnected() {
				nc.FlushTimeout(5 * time.Second)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	conn.register(fl, "the NATS JetStream server (nats://HOST:PORT)")
	fl.IntVarP(&concurrency, "concurrency", "c", cluster.DefaultConcurrency, "inputs held and requests in flight, per job")
	fl.StringVar(&name, "name", "", "the worker's name in the coordinator's summary (default: host name and process ID)")
	return cmd
}

// coordinator returns the coordinator of the job j, started: its spec made
// of the fetch flags, published on the server.
func (f *fetchFlags) coordinator(ctx context.Context, js jetstream.JetStream, j *job.Job, reqs *template.Requests, client *fetch.Client) (*cluster.Coordinator, error) {
	spec := cluster.Spec{
		ID: j.ID(), Partitions: f.cluster.partitions, ByHost: f.cfg.PerHost > 0 || f.cfg.PerHostRate > 0,
		Fetch: f.cfg, Insecure: f.insecure, AckWait: f.cluster.ackWait, LeaseTTL: f.cluster.leaseTTL,
	}
	spec.Fetch.TLS = nil
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return nil, usageError("--cacert: %v", err)
		}
		spec.CACert = pem
	}
	c := &cluster.Coordinator{JS: js, Spec: spec, Requests: reqs, Client: client, MaxPending: f.cluster.maxPending}
	// Start may wait out the lease of a coordinator of the job that was
	// killed (the lease's TTL at most).
	sctx, cancel := context.WithTimeout(ctx, f.cluster.leaseTTL+30*time.Second)
	defer cancel()
	if err := c.Start(sctx); err != nil {
		return nil, &exitError{exitRuntime, fmt.Errorf("--cluster %s: %w", redact.URL(f.cluster.url), err)}
	}
	return c, nil
}
