// Package storetest is the conformance suite for window.Store. Every
// implementation (the in-memory one, the DynamoDB adapter against DynamoDB
// Local or LocalStack) runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) window.Store { return newStore(t) })
//	}
//
// newStore must return an empty store (or one whose names do not collide
// between calls); the suite uses names under "storetest/".
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/shared/window"
)

// Run runs the conformance suite; newStore is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) window.Store) {
	t.Helper()
	ctx := context.Background()

	t.Run("missing name loads empty at version 0", func(t *testing.T) {
		s := newStore(t)
		state, v, err := s.Load(ctx, "storetest/missing")
		if err != nil || state != nil || v != 0 {
			t.Fatalf("Load missing = %q, %d, %v; want nil, 0, nil", state, v, err)
		}
	})

	t.Run("save then load round trip with versions", func(t *testing.T) {
		s := newStore(t)
		name := "storetest/roundtrip"
		if err := s.Save(ctx, name, []byte("one"), 0); err != nil {
			t.Fatalf("first Save: %v", err)
		}
		state, v, err := s.Load(ctx, name)
		if err != nil || string(state) != "one" || v != 1 {
			t.Fatalf("Load = %q, %d, %v; want one, 1, nil", state, v, err)
		}
		if err := s.Save(ctx, name, []byte("two"), 1); err != nil {
			t.Fatalf("second Save: %v", err)
		}
		state, v, err = s.Load(ctx, name)
		if err != nil || string(state) != "two" || v != 2 {
			t.Fatalf("Load = %q, %d, %v; want two, 2, nil", state, v, err)
		}
	})

	t.Run("stale version conflicts and stores nothing", func(t *testing.T) {
		s := newStore(t)
		name := "storetest/conflict"
		if err := s.Save(ctx, name, []byte("a"), 0); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for _, expect := range []int64{0, 2, 7} {
			err := s.Save(ctx, name, []byte("b"), expect)
			if !errors.Is(err, window.ErrConflict) {
				t.Fatalf("Save expecting %d = %v; want ErrConflict", expect, err)
			}
		}
		state, v, err := s.Load(ctx, name)
		if err != nil || string(state) != "a" || v != 1 {
			t.Fatalf("Load after conflicts = %q, %d, %v; want a, 1, nil", state, v, err)
		}
	})

	t.Run("save to a missing name with version above 0 conflicts", func(t *testing.T) {
		s := newStore(t)
		err := s.Save(ctx, "storetest/absent", []byte("x"), 3)
		if !errors.Is(err, window.ErrConflict) {
			t.Fatalf("Save = %v; want ErrConflict", err)
		}
		if state, v, _ := s.Load(ctx, "storetest/absent"); state != nil || v != 0 {
			t.Fatalf("Load = %q, %d; want nil, 0", state, v)
		}
	})

	t.Run("names are independent", func(t *testing.T) {
		s := newStore(t)
		if err := s.Save(ctx, "storetest/n1", []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, "storetest/n2", []byte("2"), 0); err != nil {
			t.Fatal(err)
		}
		a, _, _ := s.Load(ctx, "storetest/n1")
		b, _, _ := s.Load(ctx, "storetest/n2")
		if string(a) != "1" || string(b) != "2" {
			t.Fatalf("got %q %q; want 1 2", a, b)
		}
	})

	t.Run("binary and large state kept byte for byte", func(t *testing.T) {
		s := newStore(t)
		state := make([]byte, 300<<10)
		for i := range state {
			state[i] = byte(i * 7)
		}
		if err := s.Save(ctx, "storetest/big", state, 0); err != nil {
			t.Fatalf("Save 300 KiB: %v", err)
		}
		state[0] ^= 0xff // the store must have copied it
		got, _, err := s.Load(ctx, "storetest/big")
		if err != nil {
			t.Fatal(err)
		}
		state[0] ^= 0xff
		if !bytes.Equal(got, state) {
			t.Fatalf("loaded %d bytes differ from saved", len(got))
		}
	})

	t.Run("concurrent writers: exactly one wins each version", func(t *testing.T) {
		s := newStore(t)
		name := "storetest/race"
		const writers = 8
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Save(ctx, name, []byte(fmt.Sprint(i)), 0)
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, window.ErrConflict):
				t.Fatalf("Save: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d writers won version 1; want 1", wins)
		}
		if _, v, _ := s.Load(ctx, name); v != 1 {
			t.Fatalf("version = %d; want 1", v)
		}
	})

	t.Run("cancelled context fails", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Save(cctx, "storetest/cancel", []byte("x"), 0); err == nil {
			t.Fatal("Save with cancelled context succeeded")
		}
		if _, _, err := s.Load(cctx, "storetest/cancel"); err == nil {
			t.Fatal("Load with cancelled context succeeded")
		}
	})
}
