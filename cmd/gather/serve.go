package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/serve"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

type serveFlags struct {
	check       bool
	grace       time.Duration
	drainDelay  time.Duration
	metricsAddr string
	accessLog   bool
	path        string
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve GATEWAY.yaml",
		Short: "Serve flows as HTTP endpoints: an aggregating gateway",
		Long: `Serve answers HTTP requests by running flows: each route of the gateway
file (method, path with {name} parameters, a flow file or inline steps)
runs its flow with {"path", "query", "headers", "body"} as .input and
answers its output as JSON, or what the route's response says. Upstream
calls may reach only the gateway's upstreams. A failed step answers 502
naming it; a route's timeout answers 504 naming the steps still running.

GET /metrics (Prometheus), /healthz and /readyz are served beside the
routes. SIGHUP reloads the gateway file (an invalid one is refused, with
its errors, and the old one keeps serving); SIGTERM or Ctrl-C stops
accepting, lets requests in flight finish within --grace, and exits.`,
		Example: `  gather serve --check gateway.yaml
  gather serve gateway.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.path = args[0]
			return runServe(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.check, "check", false, "validate the gateway file and its flows, and exit")
	fl.DurationVar(&f.grace, "grace", 10*time.Second, "on SIGTERM or Ctrl-C, how long requests in flight may finish")
	fl.DurationVar(&f.drainDelay, "drain-delay", 0, "on SIGTERM or Ctrl-C, how long /readyz answers 503 while requests are still accepted, before the listener closes (for a load balancer to notice)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics on this host:port of its own (say an internal address) rather than beside the routes")
	fl.BoolVar(&f.accessLog, "access-log", true, "write a JSON access log line per request on standard error")
	return cmd
}

// loadGateway reads a gateway file; an invalid one is a usage error
// listing its errors as gather check does.
func loadGateway(path string) (*serve.Gateway, error) {
	g, err := serve.Load(path)
	if err != nil {
		var errs flow.Errors
		if errors.As(err, &errs) {
			return nil, &exitError{exitUsage, &errInvalidFlow{name: path, errs: errs, what: "gateway"}}
		}
		return nil, usageError("%v", err)
	}
	return g, nil
}

func runServe(ctx context.Context, f *serveFlags) error {
	if f.grace < 0 || f.drainDelay < 0 {
		return usageError("--grace and --drain-delay must not be negative")
	}
	g, err := loadGateway(f.path)
	if err != nil {
		return err
	}
	if f.check {
		fmt.Fprintf(stdio.out, "%s: ok (%s)\n", f.path, routesText(g))
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := serve.NewMetrics(reg)
	opts := serve.Options{Metrics: metrics}
	if f.accessLog {
		opts.Log = slog.New(slog.NewJSONHandler(stdio.err, nil))
	}
	srv, err := serve.New(g, opts)
	if err != nil {
		return usageError("%v", err)
	}
	var current atomic.Pointer[serve.Server]
	current.Store(srv)
	mux := http.NewServeMux()
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if f.metricsAddr == "" {
		mux.Handle("GET /metrics", metricsHandler)
	} else {
		mln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			srv.Close()
			return &exitError{exitRuntime, fmt.Errorf("--metrics-addr %s: %w", f.metricsAddr, err)}
		}
		mmux := http.NewServeMux()
		mmux.Handle("GET /metrics", metricsHandler)
		ms := &http.Server{Handler: mmux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: log.New(discardWriter{}, "", 0)}
		metricsDone := make(chan struct{})
		go func() { defer close(metricsDone); ms.Serve(mln) }()
		defer func() { ms.Close(); <-metricsDone }()
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
	ln, err := net.Listen("tcp", g.Listen)
	if err != nil {
		srv.Close()
		return &exitError{exitRuntime, fmt.Errorf("listen %s: %w", g.Listen, err)}
	}
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second, // a slow client's headers (slowloris)
		ReadTimeout:       time.Minute,      // and its body
		// No WriteTimeout: each answer has its route's timeout and a
		// margin (set by the handler), which a reload may change.
		IdleTimeout:    time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       log.New(discardWriter{}, "", 0),
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdio.err, "gather serve: %s on http://%s (upstreams %v)\n", routesText(g), ln.Addr(), g.Upstreams)
	for {
		select {
		case err := <-served:
			current.Load().Close()
			return &exitError{exitRuntime, fmt.Errorf("serving: %w", err)}
		case <-ctx.Done():
			return shutdown(hs, &current, f, served)
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				return shutdown(hs, &current, f, served)
			}
			ng, err := loadGateway(f.path)
			if err == nil && ng.Listen != g.Listen {
				err = fmt.Errorf("listen changed from %s to %s: a reload keeps the address; restart to change it", g.Listen, ng.Listen)
			}
			var nsrv *serve.Server
			if err == nil {
				nsrv, err = newServer(ng, opts)
			}
			if err != nil {
				fmt.Fprintf(stdio.err, "gather serve: reload refused, the gateway as it was keeps serving: %v\n", err)
				continue
			}
			old := current.Swap(nsrv)
			old.Drain()
			// The old server's requests in flight finish on their own;
			// its idle connections are closed once they have had time.
			time.AfterFunc(maxTimeout(g)+time.Second, old.Close)
			g = ng
			fmt.Fprintf(stdio.err, "gather serve: reloaded %s: %s\n", f.path, routesText(g))
		}
	}
}

// newServer is serve.New, a panic (a bug) refused as an error: a reload
// never takes the serving process down.
func newServer(g *serve.Gateway, opts serve.Options) (s *serve.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building the gateway: %v", r)
		}
	}()
	return serve.New(g, opts)
}

// shutdown stops accepting, lets the requests in flight finish within
// grace, and closes what is left.
func shutdown(hs *http.Server, current *atomic.Pointer[serve.Server], f *serveFlags, served chan error) error {
	current.Load().Drain()
	if f.drainDelay > 0 {
		fmt.Fprintf(stdio.err, "gather serve: draining: /readyz answers 503; stopping in %v\n", f.drainDelay)
		time.Sleep(f.drainDelay)
	}
	grace := f.grace
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(ctx)
	<-served
	current.Load().Close()
	if err != nil {
		hs.Close()
		return &exitError{exitInterrupted, fmt.Errorf("requests still in flight after --grace %v were cut", grace)}
	}
	fmt.Fprintln(stdio.err, "gather serve: stopped; every request accepted was answered")
	return nil
}

// routesText is "1 route" or "N routes".
func routesText(g *serve.Gateway) string {
	if len(g.Routes) == 1 {
		return "1 route"
	}
	return fmt.Sprintf("%d routes", len(g.Routes))
}

// maxTimeout is the longest route timeout of g.
func maxTimeout(g *serve.Gateway) time.Duration {
	d := serve.DefaultTimeout
	for _, r := range g.Routes {
		d = max(d, r.Timeout)
	}
	return d
}

// discardWriter drops net/http's server log (TLS handshake errors,
// broken connections): the access log says what matters.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
