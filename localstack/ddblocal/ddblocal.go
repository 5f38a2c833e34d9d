// Package ddblocal starts DynamoDB Local (AWS's own jar, run with the
// machine's Java) on a free loopback port, for tests and the local stack.
//
// The jar is installed by localstack/tools/dynamodb-local.sh (or
// `make tools`) under <repo root>/.tools/dynamodb-local; PULSE_TOOLS_DIR
// overrides <repo root>/.tools.
package ddblocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// defaultReadyTimeout bounds how long Start waits for the server to
// answer; PULSE_DDBLOCAL_READY_TIMEOUT (a Go duration) overrides it on a
// loaded machine.
const defaultReadyTimeout = 90 * time.Second

// ErrNotInstalled is returned (wrapped) by Start when the jar is missing.
var ErrNotInstalled = errors.New("DynamoDB Local is not installed: run `bash localstack/tools/dynamodb-local.sh` (or `make tools`)")

// Server is a running DynamoDB Local process.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	done     chan struct{} // closed when the process has exited
	waitErr  error         // set before done is closed
	out      *tailBuffer
	once     sync.Once
}

// Dir returns the directory DynamoDB Local is installed in:
// $PULSE_TOOLS_DIR/dynamodb-local, or <repo root>/.tools/dynamodb-local
// where the repo root is the first directory above the working directory
// that holds go.mod.
func Dir() (string, error) {
	if tools := os.Getenv("PULSE_TOOLS_DIR"); tools != "" {
		return filepath.Join(tools, "dynamodb-local"), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repo root: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools", "dynamodb-local"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("finding the repo root: no go.mod above %s (set PULSE_TOOLS_DIR)", wd)
		}
	}
}

// Start launches DynamoDB Local in memory on a free 127.0.0.1 port and
// waits until it answers ListTables: up to 30 s (or
// PULSE_DDBLOCAL_READY_TIMEOUT), or until ctx ends.
// The caller must Close the server.
func Start(ctx context.Context) (*Server, error) {
	dir, err := Dir()
	if err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: %w", err)
	}
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: %s: %w", jar, ErrNotInstalled)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: java not found (run `bash localstack/tools/dynamodb-local.sh`): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: %w", err)
	}
	cmd := exec.Command(java,
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar,
		"-inMemory", "-port", strconv.Itoa(port), "-disableTelemetry")
	cmd.Dir = dir
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local (%s): %w", java, err)
	}
	s := &Server{
		cmd:      cmd,
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		done:     make(chan struct{}),
		out:      out,
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting DynamoDB Local on %s: %w", s.endpoint, err)
	}
	return s, nil
}

// readyTimeout returns PULSE_DDBLOCAL_READY_TIMEOUT or the default.
func readyTimeout() (time.Duration, error) {
	v := os.Getenv("PULSE_DDBLOCAL_READY_TIMEOUT")
	if v == "" {
		return defaultReadyTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("PULSE_DDBLOCAL_READY_TIMEOUT=%q: want a positive duration like 60s", v)
	}
	return d, nil
}

// waitReady polls ListTables until the server answers, the process exits,
// ctx ends or the ready timeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	timeout, err := readyTimeout()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(s.endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
		RetryMaxAttempts:                1,
	})
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(pctx, &dynamodb.ListTablesInput{})
		pcancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-s.done:
			return fmt.Errorf("process exited (%w) before answering; output:\n%s", s.waitErr, s.out.String())
		case <-ctx.Done():
			return fmt.Errorf("not answering ListTables: %w (last error: %w); output:\n%s", ctx.Err(), lastErr, s.out.String())
		case <-tick.C:
		}
	}
}

// Endpoint returns the server's URL, "http://127.0.0.1:N".
func (s *Server) Endpoint() string { return s.endpoint }

// Close kills the process and waits for it to exit. It is safe to call
// more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		select {
		case <-s.done:
			return // already exited
		default:
		}
		if kerr := s.cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			err = fmt.Errorf("stopping DynamoDB Local: %w", kerr)
		}
		<-s.done
	})
	return err
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
