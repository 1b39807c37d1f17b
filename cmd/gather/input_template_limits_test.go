package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/template"
)

// A template that never ends is stopped by the run's context: once it is
// cancelled (Ctrl-C) the record being filled is not yielded (it would be
// a bad_input it is not) and reading ends.
func TestRequestsTemplateStoppedByContext(t *testing.T) {
	for _, flags := range []struct{ url, header, data string }{
		{url: "http://a/${{ [repeat(1)] | length }}"},
		{header: "X: ${{ def f: f; f }}"},
		{data: "${{ [repeat(1)] | length }}"},
	} {
		var headers []string
		if flags.header != "" {
			headers = []string{flags.header}
		}
		var data []byte
		if flags.data != "" {
			data = []byte(flags.data)
		}
		spec, err := newRequestSpec("lines", "GET", flags.url, headers, data, nil, http.Header{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var taken []int
		take := func(num int, _ input.Pos) bool {
			taken = append(taken, num)
			cancel() // Ctrl-C while the record is filled
			return true
		}
		var got []fetch.Request
		for req := range spec.requestsContext(ctx, strings.NewReader("http://a/1\nhttp://a/2\n"), input.Pos{}, nil, take, nil) {
			got = append(got, req)
		}
		if len(got) != 0 || len(taken) != 1 {
			t.Fatalf("%+v: %d requests (%+v), %d taken; want none yielded, one taken", flags, len(got), got, len(taken))
		}
	}
}

// Past the template's time limit, the record is bad_input and the input
// goes on.
func TestRequestsTemplateTimeLimit(t *testing.T) {
	spec, err := newRequestSpec("jsonl", "GET", "http://a/${{ if .slow then ([repeat(1)] | length) else .id end }}", nil, nil, nil, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	var got []fetch.Request
	for req := range spec.requestsContext(context.Background(), strings.NewReader("{\"slow\":true}\n{\"id\":2}\n"), input.Pos{}, nil, nil, nil) {
		got = append(got, req)
	}
	if len(got) != 2 || !errors.Is(got[0].Err, template.ErrTimeLimit) || got[1].Err != nil || got[1].URL != "http://a/2" {
		t.Fatalf("%+v", got)
	}
}

// Ctrl-C while a template never ends (the issue's [repeat(1)] | length)
// ends the run, as interrupted (it once ran on for ever), and the record
// being filled is not written as a bad_input it is not.
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
	if recs := parseRecords(t, stdout.Bytes()); len(recs) != 1 || recs[0].Line != 1 {
		t.Fatalf("records %+v, want line 1's only", recs)
	}
}
