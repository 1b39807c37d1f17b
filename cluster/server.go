package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gogather/gather/internal/lockfile"
	"github.com/nats-io/nats-server/v2/server"
)

// ServerMaxPayload is the largest message the embedded server takes: a
// result holds its record, and so the body kept of it (--body text), up
// to this size. NATS's own default is 1 MiB.
const ServerMaxPayload = 8 << 20

// StartServer starts an embedded NATS server with JetStream, listening on
// addr (host:port; port 0 picks a free one) and keeping its streams in
// storeDir, and returns it once it accepts connections. Its client URL is
// s.ClientURL(). Stop it with Close. The store is locked (a file in it)
// while the server runs: a second server on it is refused.
func StartServer(addr, storeDir string) (*Server, error) {
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
	// One server per store: a second one on it would corrupt both.
	lock, err := os.OpenFile(filepath.Join(storeDir, ".gather-nats.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("the store %s: %w", storeDir, err)
	}
	if err := lockfile.TryLock(lock); err != nil {
		lock.Close()
		if errors.Is(err, lockfile.ErrWouldBlock) {
			return nil, fmt.Errorf("the store %s is in use by another server", storeDir)
		}
		return nil, fmt.Errorf("the store %s: %w", storeDir, err)
	}
	opts := &server.Options{
		Host: host, Port: p, JetStream: true, StoreDir: storeDir,
		MaxPayload: ServerMaxPayload, NoSigs: true, NoLog: true,
		ServerName: "gather",
	}
	s, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		lock.Close()
		return nil, fmt.Errorf("the NATS server on %s did not start within 30s (is %s writable?)", addr, storeDir)
	}
	return &Server{s, lock}, nil
}

// A Server is an embedded NATS server with JetStream (StartServer).
type Server struct {
	*server.Server
	lock *os.File // the store's
}

// Close shuts the server down, waits until it has, and unlocks its store.
func (s *Server) Close() {
	s.Shutdown()
	s.WaitForShutdown()
	s.lock.Close()
}
