// Package s3local is the in-process S3 stand-in used by the demo and the
// tests: gofakes3 served over real HTTP, so the aws-sdk-go-v2 adapter talks
// the S3 protocol to it. Start keeps objects in memory with versioning (as
// Pulse's real buckets have it); StartDir keeps them in a folder, written
// as they are put, so memory does not grow with what is stored and a
// restarted stack finds every object (and its version ID) as it was; every
// put gets a new version ID, as on a versioned bucket, but only the latest
// version's content is kept. gofakes3 sends no bucket notifications;
// NotifyingStore supplies the ObjectCreated events S3 would send to Lambda.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Server is a running gofakes3 instance.
type Server struct {
	backend gofakes3.Backend
	http    *http.Server
	addr    string
	served  chan error
}

// Start serves an in-memory S3 on addr ("127.0.0.1:0" picks a free port)
// until Close. ctx bounds only the start (the listen), not the server's
// life. Buckets are made with CreateBuckets.
func Start(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for s3local on %s: %w", addr, err)
	}
	return serve(ln, s3mem.New())
}

// StartDir serves an S3 whose objects live under dir (created if needed):
// dir/buckets/<bucket>/<key>, with their metadata under dir/metadata.
func StartDir(ctx context.Context, addr, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating s3local folder %s: %w", dir, err)
	}
	backend, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	if err != nil {
		return nil, fmt.Errorf("opening s3local folder %s: %w", dir, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for s3local on %s: %w", addr, err)
	}
	return serve(ln, &latestVersion{Backend: backend})
}

func serve(ln net.Listener, backend gofakes3.Backend) (*Server, error) {
	faker := gofakes3.New(backend, gofakes3.WithLogger(slogLogger{}))
	s := &Server{
		backend: backend,
		http:    &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second},
		addr:    ln.Addr().String(),
		served:  make(chan error, 1),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// Endpoint is the base URL to give an S3 client (path-style addressing).
func (s *Server) Endpoint() string { return "http://" + s.addr }

// Close stops the server; stored objects are gone.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutting down s3local: %w", err)
	}
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("s3local server: %w", err)
	}
	return nil
}

// CreateBuckets creates the named buckets, with versioning enabled as on
// Pulse's real buckets, so puts return a version ID. A bucket that already
// exists is kept (and its versioning enabled).
func (s *Server) CreateBuckets(ctx context.Context, names ...string) error {
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
		if err := s.backend.CreateBucket(name); err != nil && !gofakes3.IsAlreadyExists(err) {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
		vb, ok := s.backend.(gofakes3.VersionedBackend)
		if !ok {
			continue // a folder-backed server keeps one version per key
		}
		v := gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}
		if err := vb.SetVersioningConfiguration(name, v); err != nil {
			return fmt.Errorf("enabling versioning on bucket %s: %w", name, err)
		}
	}
	return nil
}

// slogLogger passes gofakes3's errors and warnings to slog and drops the
// rest, so a healthy server is quiet.
type slogLogger struct{}

func (slogLogger) Print(level gofakes3.LogLevel, v ...any) {
	switch level {
	case gofakes3.LogErr:
		slog.Error("s3local", "msg", fmt.Sprint(v...))
	case gofakes3.LogWarn:
		slog.Warn("s3local", "msg", fmt.Sprint(v...))
	}
}
