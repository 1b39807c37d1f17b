package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/nats-io/nats.go/jetstream"
)

// JobsBucket is the key-value bucket of the jobs that are running: one key
// per job, its ID, holding its Spec as JSON. Workers watch it.
const JobsBucket = "gather_jobs"

// Spec is what a job's workers need to run its work: the coordinator puts
// it in JobsBucket, so that a worker needs nothing but the server's address.
type Spec struct {
	// ID is the job's ID (job.Job.ID): its streams, consumers and bucket
	// are named by it.
	ID string `json:"id"`
	// Epoch is the coordinator run's start, in Unix nanoseconds: a new run
	// of the coordinator is a new epoch, and workers start the job afresh.
	Epoch int64 `json:"epoch"`
	// Partitions is the number of work subjects, each consumed by one
	// worker at a time.
	Partitions int `json:"partitions"`
	// ByHost says inputs are partitioned by their URL's host (when the job
	// has a per-host limit or rate), else by their line.
	ByHost bool `json:"by_host"`
	// Fetch is the engine's configuration, but for Concurrency (each
	// worker's own), Ordered (meaningless here) and TLS (below).
	Fetch fetch.Config `json:"fetch"`
	// Insecure skips the verification of servers' certificates; CACert,
	// when not empty, is the PEM certificates trusted instead of the
	// system's.
	Insecure bool   `json:"insecure,omitempty"`
	CACert   []byte `json:"ca_cert,omitempty"`
	// AckWait is how long a worker may hold an input without a sign of
	// life before the input is given to another (see package doc).
	AckWait time.Duration `json:"ack_wait"`
	// LeaseTTL is how long a partition's lease lasts without being renewed.
	LeaseTTL time.Duration `json:"lease_ttl"`
	// Stopping says the coordinator was stopped: workers start no new
	// input and finish the ones they hold.
	Stopping bool `json:"stopping,omitempty"`
}

// Defaults of a Spec's durations and partitions.
const (
	DefaultPartitions = 32
	DefaultAckWait    = 30 * time.Second
	DefaultLeaseTTL   = 6 * time.Second
	// MaxPartitions bounds Spec.Partitions: each is a consumer on the
	// server and a lease each worker polls.
	MaxPartitions = 256
)

func (s *Spec) check() error {
	switch {
	case s.ID == "" || strings.ContainsAny(s.ID, ".*> \t"):
		return fmt.Errorf("job ID %q: want letters and digits", s.ID)
	case s.Partitions < 1 || s.Partitions > MaxPartitions:
		return fmt.Errorf("partitions must be 1 to %d, got %d", MaxPartitions, s.Partitions)
	case s.AckWait < time.Second:
		return fmt.Errorf("the ack wait must be at least 1s, got %v", s.AckWait)
	case s.LeaseTTL < time.Second:
		return fmt.Errorf("the lease TTL must be at least 1s, got %v", s.LeaseTTL)
	case s.Fetch.Body == fetch.BodyDir:
		return errors.New("bodies cannot be saved to a directory by a cluster's workers")
	}
	return nil
}

// clientConfig returns the fetch configuration a worker of concurrency c
// runs the job with.
func (s *Spec) clientConfig(c int) (fetch.Config, error) {
	cfg := s.Fetch
	cfg.Concurrency, cfg.Ordered, cfg.ReadAhead, cfg.TLS = c, false, 0, nil
	if cfg.PerHost > c {
		cfg.PerHost = c
	}
	if s.Insecure || len(s.CACert) > 0 {
		cfg.TLS = &tls.Config{InsecureSkipVerify: s.Insecure}
	}
	if len(s.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CACert) {
			return cfg, errors.New("the job's CA certificates hold no PEM certificate")
		}
		cfg.TLS.RootCAs = pool
	}
	return cfg, nil
}

// The names of a job's objects on the server. Stream and bucket names
// take letters, digits, - and _; subjects are dot-separated.
func workStream(id string) string    { return "GATHER_" + id + "_WORK" }
func resultStream(id string) string  { return "GATHER_" + id + "_RESULTS" }
func leaseBucket(id string) string   { return "gather_" + id + "_leases" }
func resultSubject(id string) string { return "gather." + id + ".results" }
func workSubject(id string, p int) string {
	return "gather." + id + ".work." + strconv.Itoa(p)
}
func partitionConsumer(p int) string { return "p" + strconv.Itoa(p) }

// partition returns the partition of a request: by its host (fetch.HostOf,
// the key of the engine's per-host limits) with byHost, else by its line.
func partition(rawURL string, line, n int, byHost bool) int {
	if !byHost {
		return line % n
	}
	h := fnv.New32a()
	h.Write([]byte(fetch.HostOf(rawURL))) // "" for a URL that fails on a worker
	return int(h.Sum32() % uint32(n))
}

// setUp creates (or updates) a job's streams and consumers; its
// coordinator holds the job's lease (see leaseBucketOf).
func setUp(ctx context.Context, js jetstream.JetStream, s *Spec) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        workStream(s.ID),
		Description: "gather: the inputs of job " + s.ID + " waiting for a worker",
		Subjects:    []string{"gather." + s.ID + ".work.*"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("creating the work stream: %w", err)
	}
	for p := range s.Partitions {
		_, err := js.CreateOrUpdateConsumer(ctx, workStream(s.ID), jetstream.ConsumerConfig{
			Durable:       partitionConsumer(p),
			FilterSubject: workSubject(s.ID, p),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       s.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: -1,
			MaxWaiting:    512,
		})
		if err != nil {
			return fmt.Errorf("creating the consumer of partition %d: %w", p, err)
		}
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        resultStream(s.ID),
		Description: "gather: the results of job " + s.ID + " for its coordinator",
		Subjects:    []string{resultSubject(s.ID)},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      7 * 24 * time.Hour,
	})
	if err != nil {
		return fmt.Errorf("creating the result stream: %w", err)
	}
	return nil
}

// leaseBucketOf returns the job's lease bucket, created with the spec's
// TTL if it does not exist. One that exists keeps its TTL, and the spec
// takes it: the workers of a run still ending renew by it.
func leaseBucketOf(ctx context.Context, js jetstream.JetStream, s *Spec) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, leaseBucket(s.ID))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      leaseBucket(s.ID),
			Description: "gather: the coordinator and workers of job " + s.ID + " and the partitions they hold",
			TTL:         s.LeaseTTL,
			History:     1,
			Storage:     jetstream.FileStorage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) { // made by another at the same moment
			kv, err = js.KeyValue(ctx, leaseBucket(s.ID))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the lease bucket: %w", err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("the lease bucket: %w", err)
	}
	if ttl := st.TTL(); ttl > 0 {
		s.LeaseTTL = ttl
	}
	return kv, nil
}

// tearDown deletes a job's objects; the ones already gone are no error.
func tearDown(ctx context.Context, js jetstream.JetStream, id string) error {
	var errs []error
	if kv, err := js.KeyValue(ctx, JobsBucket); err == nil {
		if err := kv.Purge(ctx, id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			errs = append(errs, err)
		}
	}
	for _, name := range []string{workStream(id), resultStream(id)} {
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	if err := js.DeleteKeyValue(ctx, leaseBucket(id)); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// jobsBucket returns the jobs bucket, created if it does not exist.
func jobsBucket(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, JobsBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: JobsBucket, Description: "gather: the jobs running, by ID, with their settings", History: 1,
			Storage: jetstream.FileStorage,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("the jobs bucket: %w", err)
	}
	return kv, nil
}

func encodeSpec(s *Spec) ([]byte, error) { return json.Marshal(s) }

func decodeSpec(b []byte) (*Spec, error) {
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("a job's spec: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("a job's spec: %w", err)
	}
	return &s, nil
}
