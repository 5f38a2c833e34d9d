package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// On AWS the dedupe keys live in DynamoDB, outside the function whose
// memory is measured. The RSS run keeps that shape: the parent process
// holds the keys (any port.Dedupe) and serves them to the measured
// child over a Unix socket with net/rpc, so the child's peak RSS is the
// function's own, not the key table's.

// DedupeServer serves a port.Dedupe over net/rpc.
type DedupeServer struct {
	d port.Dedupe
}

// ClaimArgs is one Claim call on the wire.
type ClaimArgs struct {
	Namespace string
	Txn       string
	Claims    []port.Claim
}

// TxnArgs is one Begin, Commit, Abort or State call on the wire.
type TxnArgs struct {
	Txn      string
	Deadline time.Time
}

// Claim is the RPC method.
func (s *DedupeServer) Claim(args ClaimArgs, out *[]port.Outcome) error {
	o, err := s.d.Claim(context.Background(), args.Namespace, args.Txn, args.Claims)
	if err != nil {
		return err
	}
	*out = o
	return nil
}

// Begin is the RPC method.
func (s *DedupeServer) Begin(args TxnArgs, _ *struct{}) error {
	return s.d.Begin(context.Background(), args.Txn, args.Deadline)
}

// Commit is the RPC method.
func (s *DedupeServer) Commit(args TxnArgs, _ *struct{}) error {
	return s.d.Commit(context.Background(), args.Txn)
}

// Abort is the RPC method.
func (s *DedupeServer) Abort(args TxnArgs, _ *struct{}) error {
	return s.d.Abort(context.Background(), args.Txn)
}

// State is the RPC method.
func (s *DedupeServer) State(args TxnArgs, out *port.TxnState) error {
	st, err := s.d.State(context.Background(), args.Txn)
	*out = st
	return err
}

// ServeDedupe serves d on ln until ln is closed.
func ServeDedupe(ln net.Listener, d port.Dedupe) error {
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

// RemoteDedupe is a port.Dedupe served by ServeDedupe.
type RemoteDedupe struct {
	c *rpc.Client
}

var _ port.Dedupe = (*RemoteDedupe)(nil)

// DialDedupe connects to a ServeDedupe on the Unix socket at path.
func DialDedupe(path string) (*RemoteDedupe, error) {
	c, err := rpc.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("connecting to dedupe server %s: %w", path, err)
	}
	return &RemoteDedupe{c: c}, nil
}

// Claim implements port.Dedupe.
func (r *RemoteDedupe) Claim(ctx context.Context, namespace, txn string, claims []port.Claim) ([]port.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, err)
	}
	var out []port.Outcome
	call := r.c.Go("Dedupe.Claim", ClaimArgs{Namespace: namespace, Txn: txn, Claims: claims}, &out, nil)
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

func (r *RemoteDedupe) call(ctx context.Context, method string, args TxnArgs, out any) error {
	call := r.c.Go("Dedupe."+method, args, out, nil)
	select {
	case <-call.Done:
	case <-ctx.Done():
		return fmt.Errorf("dedupe %s of %s: %w", method, args.Txn, ctx.Err())
	}
	if call.Error != nil {
		// net/rpc carries the error's text only: give the sentinels back.
		for _, sentinel := range []error{port.ErrTxnAborted, port.ErrTxnCommitted, port.ErrClaimHeld} {
			if strings.Contains(call.Error.Error(), sentinel.Error()) {
				return fmt.Errorf("dedupe %s of %s: %w: %w", method, args.Txn, sentinel, call.Error)
			}
		}
		return fmt.Errorf("dedupe %s of %s: %w", method, args.Txn, call.Error)
	}
	return nil
}

// Begin implements port.Dedupe.
func (r *RemoteDedupe) Begin(ctx context.Context, txn string, deadline time.Time) error {
	return r.call(ctx, "Begin", TxnArgs{Txn: txn, Deadline: deadline}, &struct{}{})
}

// Commit implements port.Dedupe.
func (r *RemoteDedupe) Commit(ctx context.Context, txn string) error {
	return r.call(ctx, "Commit", TxnArgs{Txn: txn}, &struct{}{})
}

// Abort implements port.Dedupe.
func (r *RemoteDedupe) Abort(ctx context.Context, txn string) error {
	return r.call(ctx, "Abort", TxnArgs{Txn: txn}, &struct{}{})
}

// State implements port.Dedupe.
func (r *RemoteDedupe) State(ctx context.Context, txn string) (port.TxnState, error) {
	var st port.TxnState
	err := r.call(ctx, "State", TxnArgs{Txn: txn}, &st)
	return st, err
}

// Close closes the connection.
func (r *RemoteDedupe) Close() error { return r.c.Close() }
