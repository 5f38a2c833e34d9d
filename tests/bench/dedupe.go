package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// On AWS the dedupe keys live in DynamoDB, outside the function whose
// memory is measured. The RSS run keeps that shape: the parent process
// holds the keys (any pipeline.Dedupe) and serves them to the measured
// child over a Unix socket with net/rpc, so the child's peak RSS is the
// function's own, not the key table's.

// DedupeServer serves a pipeline.Dedupe over net/rpc.
type DedupeServer struct {
	d pipeline.Dedupe
}

// ClaimArgs is one Claim call on the wire.
type ClaimArgs struct {
	Namespace string
	Claims    []pipeline.Claim
}

// Claim is the RPC method.
func (s *DedupeServer) Claim(args ClaimArgs, out *[]pipeline.Outcome) error {
	o, err := s.d.Claim(context.Background(), args.Namespace, args.Claims)
	if err != nil {
		return err
	}
	*out = o
	return nil
}

// ServeDedupe serves d on ln until ln is closed.
func ServeDedupe(ln net.Listener, d pipeline.Dedupe) error {
	srv := rpc.NewServer()
	if err := srv.RegisterName("Dedupe", &DedupeServer{d: d}); err != nil {
		return fmt.Errorf("registering dedupe server: %w", err)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accepting dedupe connection: %w", err)
		}
		go srv.ServeConn(conn)
	}
}

// RemoteDedupe is a pipeline.Dedupe served by ServeDedupe.
type RemoteDedupe struct {
	c *rpc.Client
}

var _ pipeline.Dedupe = (*RemoteDedupe)(nil)

// DialDedupe connects to a ServeDedupe on the Unix socket at path.
func DialDedupe(path string) (*RemoteDedupe, error) {
	c, err := rpc.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("connecting to dedupe server %s: %w", path, err)
	}
	return &RemoteDedupe{c: c}, nil
}

// Claim implements pipeline.Dedupe.
func (r *RemoteDedupe) Claim(ctx context.Context, namespace string, claims []pipeline.Claim) ([]pipeline.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, err)
	}
	var out []pipeline.Outcome
	call := r.c.Go("Dedupe.Claim", ClaimArgs{Namespace: namespace, Claims: claims}, &out, nil)
	select {
	case <-call.Done:
	case <-ctx.Done():
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, ctx.Err())
	}
	if call.Error != nil {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, call.Error)
	}
	if len(out) != len(claims) {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %d outcomes", len(claims), namespace, len(out))
	}
	return out, nil
}

// Close closes the connection.
func (r *RemoteDedupe) Close() error { return r.c.Close() }
