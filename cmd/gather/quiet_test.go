package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
)

// unsolicitedServer answers each request and then sends bytes nobody
// asked for on the idle connection: net/http's transport logs
// "Unsolicited response received on idle HTTP channel" through the log
// package.
func unsolicitedServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					req.Body.Close()
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"))
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// Nothing but the records and the summary reaches the terminal: not
// net/http's log lines; and -q silences the summary.
func TestQuietMeansQuiet(t *testing.T) {
	base := unsolicitedServer(t)
	var in strings.Builder
	for i := range 20 {
		in.WriteString(base + "/u/" + string(rune('a'+i)) + "\n")
	}
	res := gather(t, in.String(), "fetch", "-q", "-c", "1")
	if len(res.records) != 20 || res.stderr != "" {
		t.Errorf("-q: %d records, stderr %q; want nothing on stderr", len(res.records), res.stderr)
	}
	res = gather(t, in.String(), "fetch", "-c", "1")
	if strings.Contains(res.stderr, "Unsolicited") || !strings.Contains(res.stderr, "20 records") {
		t.Errorf("stderr %q: want the summary and nothing else", res.stderr)
	}
}
