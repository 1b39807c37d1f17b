package cluster

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerMaxPayload is the largest message the embedded server takes: a
// result holds its record, and so the body kept of it (--body text), up
// to this size. NATS's own default is 1 MiB.
const ServerMaxPayload = 8 << 20

// StartServer starts an embedded NATS server with JetStream, listening on
// addr (host:port; port 0 picks a free one) and keeping its streams in
// storeDir, and returns it once it accepts connections. Its client URL is
// ClientURL(s). Stop it with s.Shutdown and s.WaitForShutdown.
func StartServer(addr, storeDir string) (*server.Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: want host:port", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("--addr %q: the port must be 0 to 65535", addr)
	}
	if p == 0 {
		p = server.RANDOM_PORT
	} else if l, err := net.Listen("tcp", addr); err != nil { // in use: say so now, not after a wait
		return nil, err
	} else {
		l.Close()
	}
	opts := &server.Options{
		Host: host, Port: p, JetStream: true, StoreDir: storeDir,
		MaxPayload: ServerMaxPayload, NoSigs: true, NoLog: true,
		ServerName: "gather",
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("the NATS server on %s did not start within 30s (is %s writable?)", addr, storeDir)
	}
	return s, nil
}
