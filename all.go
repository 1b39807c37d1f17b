package gather

import "context"

// All runs every fn concurrently and returns their values in the order of
// fns, as asyncio.gather. On the first error (or panic) the other calls are
// cancelled through their context, All waits for them to return, and it
// returns no values and the error Scope.Wait returns: the first failure
// first (a panic in preference), joined with every other real failure, the
// cancellations the first one caused left out. With no fns it returns an
// empty slice and nil.
//
// The caller's own cancellation is always visible: if ctx is done before
// every call has returned, All returns no values and ctx's error (wrapped
// with its cause, see Scope.Wait), even if the calls ignored it and
// returned values. Values all there before ctx was done are returned.
func All[T any](ctx context.Context, fns ...func(context.Context) (T, error)) ([]T, error) {
	s := NewScope(ctx)
	futures := make([]*Future[T], len(fns))
	for i, fn := range fns {
		futures[i] = Go(s, fn)
	}
	if err := s.Wait(); err != nil {
		return nil, err
	}
	values := make([]T, len(fns))
	for i, f := range futures {
		values[i] = f.value
	}
	return values, nil
}

// Settled runs every fn concurrently and returns every outcome, in the order
// of fns, as asyncio.gather with return_exceptions=True: values[i] and
// errs[i] are what fns[i] returned. An error does not cancel the other calls;
// a panic does (it is errs[i] as a *PanicError, and the others see their
// context cancelled). Settled returns when every call has returned.
//
// The caller's own cancellation is always visible: a call that returned a
// nil error after ctx was done has ctx's error (wrapped with its cause, see
// Scope.Wait) as errs[i]; what it returned stays in values[i]. A call that
// returned before ctx was done keeps its outcome.
func Settled[T any](ctx context.Context, fns ...func(context.Context) (T, error)) (values []T, errs []error) {
	s := NewScope(ctx, KeepGoing())
	futures := make([]*Future[T], len(fns))
	for i, fn := range fns {
		futures[i] = Go(s, fn)
	}
	_ = s.Wait() // every outcome, the panic included, is in its future
	values = make([]T, len(fns))
	errs = make([]error, len(fns))
	for i, f := range futures {
		values[i], errs[i] = f.value, f.err
		if errs[i] == nil && f.state.Load()&stateLate != 0 && ctx.Err() != nil {
			errs[i] = ctxErr(ctx)
		}
	}
	return values, errs
}
