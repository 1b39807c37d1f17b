package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Ctrl-C while a template never ends (the issue's [repeat(1)] | length)
// ends the run, as interrupted (it once ran on for ever), and the record
// being filled is written as cancelled, as an input stopped before it was
// sent is, not as a bad_input it is not.
func TestFetchCtrlCStopsTemplate(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	cmd := exec.Command(binary, "fetch", "-q", "--input-format", "jsonl",
		"--url", srv.URL()+"/${{ if .slow then ([repeat(1)] | length) else .p end }}")
	stdin, _ := cmd.StdinPipe()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	fmt.Fprintln(stdin, `{"p": "first"}`)
	waitUntil(t, "the first request", 20*time.Second, func() bool { return srv.Stats().ByPath["/first"] > 0 })
	fmt.Fprintln(stdin, `{"slow": true}`)
	time.Sleep(200 * time.Millisecond) // into the template (were the signal first, the test would pass without proving anything)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second): // a hang, not a slow machine
		cmd.Process.Kill()
		<-done
		t.Fatal("Ctrl-C did not end a run in a template that never ends")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d", err, exitInterrupted)
	}
	recs := parseRecords(t, stdout.Bytes())
	if len(recs) != 2 || recs[0].Line != 1 || recs[0].Error != nil || recs[1].Line != 2 || recs[1].Error == nil || recs[1].Error.Kind != fetch.KindCanceled {
		t.Fatalf("records %+v, want line 1 ok and line 2 cancelled", recs)
	}
}
