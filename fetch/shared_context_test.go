package fetch

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Attempts started together share a context whose deadline leaves each
// the whole attempt timeout; a context that serves no more attempts ends
// once the last one under it is done, or at end.
func TestSharedAttemptContexts(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &sharedContexts{timeout: time.Hour} // a window of 3.6s
	start := time.Now()
	a, b := s.get(parent), s.get(parent)
	if a != b {
		t.Fatal("two attempts started together do not share a context")
	}
	if d, ok := a.ctx.Deadline(); !ok || d.Before(start.Add(time.Hour)) || d.After(time.Now().Add(time.Hour+3600*time.Millisecond)) {
		t.Fatalf("deadline %v, %v: want an hour from the start, and at most a thousandth more", d, ok)
	}
	other, cancelOther := context.WithCancel(context.Background())
	defer cancelOther()
	c := s.get(other) // another parent: a context of its own, and a seals a
	if c == a || c.ctx.Err() != nil {
		t.Fatal("another parent's attempt got the context of the first")
	}
	a.done()
	if a.ctx.Err() != nil {
		t.Fatal("a context was cancelled with an attempt still under it")
	}
	b.done()
	if err := a.ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("a context serving no more attempts, none under it: %v", err)
	}
	if c.ctx.Err() != nil {
		t.Fatal("the current context ended early")
	}
	c.done()
	s.end()
	if c.ctx.Err() == nil {
		t.Fatal("end left the current context running")
	}

	// An expired window: the next attempt gets a new context.
	s = &sharedContexts{timeout: time.Millisecond}
	d := s.get(parent)
	time.Sleep(2 * time.Millisecond)
	e := s.get(parent)
	if d == e {
		t.Fatal("an attempt started after the window shares its context")
	}
	select {
	case <-d.ctx.Done():
	case <-time.After(10 * time.Second):
	}
	if !errors.Is(context.Cause(d.ctx), errAttemptTimeout) {
		t.Fatalf("the expired context's cause is %v", context.Cause(d.ctx))
	}
	d.done()
	e.done()
	s.end()
}
