// Allocations are counted without the race detector: its instrumentation
// changes them, and makes the 9 MiB bodies take a minute. CI runs this
// file in a run of its own (.ci/run).

//go:build !race

package fetch_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// bodyAllocs returns the bytes allocated per Do (and per AppendJSON of
// its record) for a body of size bytes kept under policy, over n
// requests, checking each record's body against its hash.
func bodyAllocs(t testing.TB, srv *upstream.Server, policy fetch.BodyPolicy, size, n int, query string) (perDo, perJSON uint64) {
	client, err := fetch.New(fetch.Config{Body: policy, MaxBody: 16 << 20, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	url := fmt.Sprintf("%s/b?size=%d%s", srv.URL(), size, query)
	client.Do(context.Background(), fetch.Request{Line: 1, URL: url}) // a connection, pools warm
	var before, after runtime.MemStats
	for range n {
		runtime.GC()
		runtime.ReadMemStats(&before)
		rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: url})
		runtime.ReadMemStats(&after)
		perDo += after.TotalAlloc - before.TotalAlloc
		if rec.Error != nil || rec.Bytes != int64(size) {
			t.Fatalf("%s: %+v", policy, rec.Error)
		}
		runtime.ReadMemStats(&before)
		_, err = rec.AppendJSON(nil)
		runtime.ReadMemStats(&after)
		perJSON += after.TotalAlloc - before.TotalAlloc
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := json.Unmarshal(rec.Body, &s); err != nil {
			t.Fatal(err)
		}
		b := []byte(s)
		if policy == fetch.BodyBase64 {
			if b, err = base64.StdEncoding.DecodeString(s); err != nil {
				t.Fatal(err)
			}
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != rec.SHA256 {
			t.Fatalf("%s: the body kept is not the body read", policy)
		}
	}
	return perDo / uint64(n), perJSON / uint64(n)
}

// A 9 MB body kept as text or base64 costs at most 3 times its size in
// allocations while its request is in flight (the body read, its
// encoding), whether or not the server sent its length, and writing the
// record copies the body once. Allocations are counted, not timed.
func TestKeptBodyAllocations(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	const size = 9 << 20
	for _, policy := range []fetch.BodyPolicy{fetch.BodyText, fetch.BodyBase64} {
		for _, query := range []string{"", "&gzip=1"} {
			perDo, perJSON := bodyAllocs(t, srv, policy, size, 3, query)
			t.Logf("%s body of %d MiB (%s): %.2f MiB allocated per request (%.2fx), %.2f MiB per record written (%.2fx)",
				policy, size>>20, map[bool]string{true: "length known", false: "gzip, chunked"}[query == ""],
				float64(perDo)/(1<<20), float64(perDo)/size, float64(perJSON)/(1<<20), float64(perJSON)/size)
			if perDo > 3*size {
				t.Errorf("%s%s: %d bytes allocated per request for a body of %d: over 3x", policy, query, perDo, size)
			}
			if perJSON > 3*size/2 {
				t.Errorf("%s%s: %d bytes allocated to encode a record with a body of %d", policy, query, perJSON, size)
			}
		}
	}
}
