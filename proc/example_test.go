//go:build unix

package proc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gogather/gather/proc"
)

// Start a process, feed its standard input, read its output line by line as
// it comes, and wait for its exit code.
func ExampleStart() {
	ctx := context.Background()
	p, err := proc.Start(ctx, proc.Cmd{
		Args:    []string{"tr", "a-z", "A-Z"},
		Stdin:   strings.NewReader("hello\nworld\n"),
		Timeout: 10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for line, err := range p.Lines() {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(line)
	}
	code, err := p.Wait(ctx)
	fmt.Println(code, err)
	// Output:
	// HELLO
	// WORLD
	// 0 <nil>
}

// Output runs a process and returns its standard output, bounded.
func ExampleOutput() {
	out, err := proc.Output(context.Background(), proc.Cmd{
		Args:  []string{"sort"},
		Stdin: strings.NewReader("pear\napple\nfig\n"),
	})
	fmt.Printf("%q %v\n", out, err)
	// Output:
	// "apple\nfig\npear\n" <nil>
}

// A non-zero exit is an *ExitError with the code and the start of standard
// error; a timeout is a *StoppedError whose cause is the deadline.
func ExampleExitError() {
	ctx := context.Background()
	_, err := proc.Output(ctx, proc.Cmd{Args: []string{"sh", "-c", "echo 'no such table' >&2; exit 2"}})
	var exit *proc.ExitError
	if errors.As(err, &exit) {
		fmt.Println(exit.Code, err)
	}

	_, err = proc.Output(ctx, proc.Cmd{Args: []string{"sleep", "10"}, Timeout: 50 * time.Millisecond})
	var stopped *proc.StoppedError
	fmt.Println(errors.As(err, &stopped), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// 2 proc: "sh" exited with code 2: no such table
	// true true
}
