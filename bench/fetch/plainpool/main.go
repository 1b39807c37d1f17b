// Command plainpool is the baseline of bench/fetch/run.sh: a plain net/http
// worker pool, the way one would write it by hand. It reads URLs from a file,
// one a line, and fetches them with N workers over one shared, tuned
// Transport; bodies are read and discarded. It prints the number of
// responses with a 2xx status and nothing else; it exits 1 if any request
// failed.
//
//	plainpool -c 64 urls.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	conc := flag.Int("c", 64, "workers (requests in flight)")
	flag.Parse()
	if flag.NArg() != 1 || *conc < 1 {
		fmt.Fprintln(os.Stderr, "usage: plainpool [-c N] URLFILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        *conc,
		MaxIdleConnsPerHost: *conc,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	urls := make(chan string, *conc)
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			for u := range urls {
				resp, err := client.Get(u)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode/100 != 2 {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if u := sc.Text(); u != "" {
			urls <- u
		}
	}
	close(urls)
	wg.Wait()
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(ok.Load())
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
