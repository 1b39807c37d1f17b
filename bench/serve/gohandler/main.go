// Command gohandler is the hand-written Go reference gateway of the serve
// benchmark (see ../README.md): GET /agg/{id} calls three upstream URLs at
// once with one shared http.Client and errgroup, decodes their JSON answers
// and answers {"a": path, "b": path, "c": path}. ?slow=1 makes the third call
// take 2s instead of 10ms.
//
//	gohandler -addr 127.0.0.1:8081 -upstream http://127.0.0.1:8090
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"
)

type echo struct {
	Path string `json:"path"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	upstream := flag.String("upstream", "http://127.0.0.1:8090", "upstream base URL")
	flag.Parse()

	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096, // 64 inbound connections x 3 calls, with room
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}

	get := func(ctx context.Context, u string, out *echo) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			io.Copy(io.Discard, resp.Body)
			return fmt.Errorf("%s: %s", u, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /agg/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := url.PathEscape(r.PathValue("id"))
		cLatency := "10ms"
		if r.URL.Query().Get("slow") == "1" {
			cLatency = "2s"
		}
		var a, b, c echo
		g, ctx := errgroup.WithContext(r.Context())
		g.Go(func() error { return get(ctx, *upstream+"/a/"+id+"?latency=10ms&echo=1", &a) })
		g.Go(func() error { return get(ctx, *upstream+"/b/"+id+"?latency=10ms&echo=1", &b) })
		g.Go(func() error { return get(ctx, *upstream+"/c/"+id+"?latency="+cLatency+"&echo=1", &c) })
		if err := g.Wait(); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"a": a.Path, "b": b.Path, "c": c.Path})
	})

	log.Printf("gohandler: serving on http://%s, upstream %s", *addr, *upstream)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
