package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// startNATS starts gather nats on addr with its store in dir and waits
// until it accepts connections.
func startNATS(t *testing.T, addr, dir string) *process {
	t.Helper()
	p := startProcess(t, "gather nats", "nats", "--addr", addr, "--store", dir)
	waitUntil(t, "the NATS server to listen", 30*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil || p.exited()
	})
	if p.exited() {
		t.Fatalf("gather nats ended: %v: %s", p.err, p.stderr.String())
	}
	return p
}

// A cluster job of 20,000 inputs on six hosts, run by worker processes:
// a worker and then the coordinator are killed with SIGKILL and started
// again, a third worker joins half-way, the NATS server restarts. In the
// end the job holds exactly one ok result per input and no host ever had
// more requests at once than --per-host. (That a worker joining takes
// work is checked in package cluster, where inputs are spread by line:
// here they are by host, and the joiner's partitions may hold none.)
func TestClusterJobSurvivesKillsAndRestarts(t *testing.T) {
	const n, perHost = 20_000, 4
	var servers []*upstream.Server
	var in strings.Builder
	for range 6 {
		servers = append(servers, upstreamtest.Start(t, upstream.Config{}))
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "%s/item/%d?latency=2ms\n", servers[i%len(servers)].URL(), i)
	}
	dir := t.TempDir()
	input := writeTestFile(t, dir, "in.txt", in.String())
	jobFile := filepath.Join(dir, "job.db")
	addr, store := freeAddr(t), filepath.Join(dir, "store")
	url := "nats://" + addr
	nats := startNATS(t, addr, store)
	requests := func() int64 {
		var total int64
		for _, s := range servers {
			total += s.Stats().Requests
		}
		return total
	}
	waitRequests := func(what string, atLeast int64, coord *process) {
		t.Helper()
		waitUntil(t, what, 120*time.Second, func() bool { return requests() >= atLeast || coord.exited() })
		if coord.exited() {
			t.Fatalf("the coordinator ended before %s: %v: %s", what, coord.err, coord.stderr.String())
		}
	}
	worker := func(name string) *process {
		return startProcess(t, "worker "+name, "worker", "--cluster", url, "-c", "16", "--name", name)
	}
	coordinate := func() *process {
		return startProcess(t, "the coordinator", "fetch", input, "--job", jobFile, "--cluster", url,
			"--per-host", fmt.Sprint(perHost), "--partitions", "8", "--ack-wait", "3s", "--lease-ttl", "2s", "--retries", "0")
	}
	w1, _ := worker("w1"), worker("w2")
	coord := coordinate()

	// The moments of the kills and restarts are random, around 2,000,
	// 6,000, 10,000 and 13,000 requests.
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 15))
	at := func(around int64) int64 { return around - 1000 + rng.Int64N(2000) }
	waitRequests("the first kill", at(2_000), coord)
	w1.kill(syscall.SIGKILL)
	t.Logf("w1 killed at %d requests", requests())
	worker("w1")

	waitRequests("the coordinator's kill", at(6_000), coord)
	coord.kill(syscall.SIGKILL)
	t.Logf("the coordinator killed at %d requests", requests())
	coord = coordinate()

	waitRequests("a worker joining", at(10_000), coord)
	worker("w3")
	t.Logf("w3 joined at %d requests", requests())

	waitRequests("the server's restart", at(13_000), coord)
	nats.kill(syscall.SIGTERM)
	t.Logf("the NATS server stopped at %d requests", requests())
	time.Sleep(500 * time.Millisecond)
	startNATS(t, addr, store)

	select {
	case <-coord.done:
	case <-time.After(180 * time.Second):
		t.Fatalf("the coordinator has not ended 180s after the NATS server restarted")
	}
	if coord.err != nil {
		t.Fatalf("the coordinator: %v: %s", coord.err, coord.stderr.String())
	}
	results := storedResults(t, jobFile)
	seen := make([]bool, n+1)
	for _, r := range results {
		if r.Line < 1 || r.Line > n || seen[r.Line] || !r.OK {
			t.Fatalf("result of line %d: ok %v, seen before %v", r.Line, r.OK, r.Line >= 1 && r.Line <= n && seen[r.Line])
		}
		seen[r.Line] = true
	}
	if len(results) != n {
		t.Fatalf("%d results for %d inputs", len(results), n)
	}
	for _, s := range servers {
		for host, most := range s.Stats().MaxConcurrent {
			if most > perHost {
				t.Errorf("%s had %d requests at once, over --per-host %d", host, most, perHost)
			}
		}
	}
	t.Logf("%d requests for %d inputs; the last coordinator's summary:\n%s", requests(), n, coord.stderr.String())
}

func TestClusterFlagsThatCannotHoldAreRefused(t *testing.T) {
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", "http://127.0.0.1:1/\n")
	j := filepath.Join(dir, "j.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fetch", in, "--cluster", "nats://127.0.0.1:1"}, "--cluster needs --job"},
		{[]string{"fetch", in, "--job", j, "--cluster", ""}, "--cluster: empty address"},
		{[]string{"fetch", in, "--job", j, "--partitions", "4"}, "--partitions needs --cluster"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "-c", "8"}, "-c is each worker's"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--rate", "10"}, "--rate is one process's rate"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--ordered"}, "--ordered cannot hold"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--body", "dir:" + dir}, "--body dir cannot be used"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--partitions", "0"}, "--partitions must be 1 to 256"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--max-pending", "-1"}, "--max-pending must be"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--ack-wait", "1ms"}, "--ack-wait must be 1s to 24h"},
		{[]string{"fetch", in, "--job", j, "--cluster", "nats://127.0.0.1:1", "--lease-ttl", "0s"}, "--lease-ttl must be 1s to 1h"},
		{[]string{"worker"}, "--cluster nats://HOST:PORT is needed"},
		{[]string{"worker", "--cluster", "nats://127.0.0.1:1", "-c", "0"}, "--concurrency must be 1 to"},
		{[]string{"nats"}, "--store DIR is needed"},
	} {
		res := gather(t, "", c.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, res.code, res.stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(j); err == nil {
		t.Errorf("a refused run made the job file")
	}
}

func TestClusterUnreachableServerNamesItWithoutItsPassword(t *testing.T) {
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", "http://127.0.0.1:1/\n")
	j := filepath.Join(dir, "j.db")
	res := gather(t, "", "fetch", in, "--job", j, "--cluster", "nats://user:s3cret@"+freeAddr(t))
	if res.code != exitRuntime || !strings.Contains(res.stderr, "--cluster nats://user:") || strings.Contains(res.stderr, "s3cret") {
		t.Errorf("exit %d, stderr %q; want exit %d naming the server, its password masked", res.code, res.stderr, exitRuntime)
	}
	if _, err := os.Stat(j); err == nil {
		t.Errorf("the job file was made for a server that cannot be reached")
	}
}
