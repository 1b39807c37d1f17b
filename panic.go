package gather

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// PanicError is the error a task's panic becomes. It carries the value the
// task panicked with and the stack of the panicking goroutine, captured at the
// moment of the panic, so the waiter sees where it happened.
//
// Find it with errors.As or errors.AsType:
//
//	if pe, ok := errors.AsType[*gather.PanicError](err); ok {
//		log.Printf("task panicked: %v\n%s", pe.Value, pe.Stack)
//	}
//
// To crash on it instead, as an unrecovered panic would have, re-panic with
// it in the waiting goroutine: panic(pe). The runtime then prints Error,
// which holds the original value and stack.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace, as debug.Stack gives it.
	Stack []byte
}

// Error returns the panic value followed by the stack of the panic.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n\ngoroutine stack at the panic:\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errGoexit is the error of a task that called runtime.Goexit (for example
// through t.FailNow) instead of returning. Runners start with it as the
// task's error, so a task that never returns still settles with it.
var errGoexit = errors.New("gather: task called runtime.Goexit instead of returning")

// recovered turns a value returned by recover into the task's error.
func recovered(r any) error {
	return &PanicError{Value: r, Stack: debug.Stack()}
}
