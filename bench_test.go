package gather_test

import (
	"context"
	"testing"

	"github.com/gogather/gather"
)

// BenchmarkGoAwait measures one task from start to collected result: Go,
// then Await, with no limit. Compare with bench/ for the peers.
func BenchmarkGoAwait(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	s := gather.NewScope(ctx)
	futs := make([]*gather.Future[int], b.N)
	for i := range b.N {
		futs[i] = gather.Go(s, func(context.Context) (int, error) { return i, nil })
	}
	sum := 0
	for _, f := range futs {
		v, _ := f.Await(ctx)
		sum += v
	}
	if err := s.Wait(); err != nil || sum != b.N*(b.N-1)/2 {
		b.Fatal(sum, err)
	}
}

// BenchmarkMap measures streaming throughput: b.N trivial inputs through a
// limit of 64, as completed and in order.
func BenchmarkMap(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []gather.MapOption
	}{
		{"unordered", nil},
		{"ordered", []gather.MapOption{gather.Ordered(256)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			sum := 0
			for r := range gather.Map(context.Background(), count(b.N), 64, func(_ context.Context, i int) (int, error) { return i, nil }, bc.opts...) {
				sum += r.Value
			}
			if sum != b.N*(b.N-1)/2 {
				b.Fatal(sum)
			}
		})
	}
	b.Run("perkey", func(b *testing.B) {
		b.ReportAllocs()
		sum := 0
		for r := range gather.MapKeyed(context.Background(), count(b.N), 64, gather.PerKey(16, func(i int) int { return i % 8 }), func(_ context.Context, i int) (int, error) { return i, nil }) {
			sum += r.Value
		}
		if sum != b.N*(b.N-1)/2 {
			b.Fatal(sum)
		}
	})
}
