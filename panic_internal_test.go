package gather

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// A *PanicError that a function returns, rather than panics with, is a plain failure.

func TestReturnedPanicErrorIsAPlainFailureNotAPanic(t *testing.T) {
	wrapped := fmt.Errorf("offloaded: %w", &PanicError{Value: "inner"})
	n := 0
	for r := range Map(context.Background(), slices.Values([]int{0, 1, 2, 3, 4, 5}), 2, func(_ context.Context, i int) (int, error) {
		if i == 1 {
			return 0, wrapped
		}
		return i, nil
	}) {
		n++
		if r.Err != nil && r.Err != wrapped {
			t.Fatalf("result %d: %v", r.Index, r.Err)
		}
	}
	if n != 6 {
		t.Fatalf("%d results: a returned error stopped the stream", n)
	}
	s := NewScope(context.Background(), KeepGoing())
	f := Go(s, func(context.Context) (int, error) { return 0, wrapped })
	f.Await(context.Background()) // retrieved: Wait does not report it again
	if err := s.Wait(); err != nil {
		t.Fatalf("KeepGoing scope returned %v for a returned error", err)
	}
}
