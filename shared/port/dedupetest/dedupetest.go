// Package dedupetest is the conformance suite for port.Dedupe. Every
// implementation (in-memory, DynamoDB Local, LocalStack) runs the same
// suite from its own tests:
//
//	func TestDedupe(t *testing.T) {
//		dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
//			return memory.NewDedupe(memory.DedupeOptions{TTL: dedupetest.TTL, Now: clock.Now})
//		})
//	}
//
// The factory is called once per subtest and must return an empty store
// whose claims expire TTL after they are made and which reads the time
// from clock (the suite moves it to pass deadlines and TTLs).
package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// TTL is how long the stores under test must keep a claim.
const TTL = 24 * time.Hour

// Clock is a settable time source for the stores under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock {
	// Far ahead of the real clock: DynamoDB Local deletes items whose TTL
	// attribute is in the real past, whatever clock the store is given.
	return &Clock{t: time.Date(2099, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Factory builds an empty store on clock.
type Factory func(t *testing.T, clock *Clock) port.Dedupe

const (
	fresh = port.Fresh
	retry = port.Retry
	dup   = port.Duplicate
	held  = port.Held
)

// Run runs the conformance suite against the implementation newDedupe builds.
func Run(t *testing.T, newDedupe Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"fresh keys", testFreshKeys},
		{"same origin again is a retry", testSameOriginRetry},
		{"other origin of a committed txn is a duplicate", testOtherOriginDuplicate},
		{"other origin of the same txn is a duplicate", testSameTxnDuplicate},
		{"mixed batch with in-batch repeats", testMixedBatch},
		{"namespaces isolated", testNamespaces},
		{"pending claims are held until commit", testHeldUntilCommit},
		{"held keys stay held within a call", testHeldInCall},
		{"abort releases the claims", testAbortReleases},
		{"a txn past its deadline is taken over", testDeadlineTakeover},
		{"a retry moves the claim to its txn", testRetryMovesTxn},
		{"txn states", testTxnStates},
		{"claims expire after the TTL", testTTL},
		{"concurrent claims of the same keys", testConcurrent},
		{"empty batch", testEmptyBatch},
		{"batch of 2000 claims", testLargeBatch},
		{"canceled context", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock()
			tc.fn(t, &suite{t: t, d: newDedupe(t, clock), clock: clock})
		})
	}
}

type suite struct {
	t     *testing.T
	d     port.Dedupe
	clock *Clock
}

var ctx = context.Background()

// begin opens txn with a deadline an hour ahead.
func (s *suite) begin(txn string) {
	s.t.Helper()
	if err := s.d.Begin(ctx, txn, s.clock.Now().Add(time.Hour)); err != nil {
		s.t.Fatalf("Begin(%q): %v", txn, err)
	}
}

func (s *suite) commit(txn string) {
	s.t.Helper()
	if err := s.d.Commit(ctx, txn); err != nil {
		s.t.Fatalf("Commit(%q): %v", txn, err)
	}
}

func (s *suite) abort(txn string) {
	s.t.Helper()
	if err := s.d.Abort(ctx, txn); err != nil {
		s.t.Fatalf("Abort(%q): %v", txn, err)
	}
}

func (s *suite) state(txn string, want port.TxnState) {
	s.t.Helper()
	got, err := s.d.State(ctx, txn)
	if err != nil {
		s.t.Fatalf("State(%q): %v", txn, err)
	}
	if got != want {
		s.t.Fatalf("State(%q) = %v, want %v", txn, got, want)
	}
}

// claim calls Claim and fails the test unless the outcomes are exactly want.
func (s *suite) claim(ns, txn string, claims []port.Claim, want []port.Outcome) {
	s.t.Helper()
	got, err := s.d.Claim(ctx, ns, txn, claims)
	if err != nil {
		s.t.Fatalf("Claim(%q, %q, %d claims): %v", ns, txn, len(claims), err)
	}
	if !slices.Equal(got, want) {
		s.t.Fatalf("Claim(%q, %q, %v):\n got  %v\n want %v", ns, txn, claims, got, want)
	}
}

// committed begins txn, claims, checks the outcomes and commits.
func (s *suite) committed(ns, txn string, claims []port.Claim, want []port.Outcome) {
	s.t.Helper()
	s.begin(txn)
	s.claim(ns, txn, claims, want)
	s.commit(txn)
}

func c(key, origin string) port.Claim { return port.Claim{Key: key, Origin: origin} }

func cs(claims ...port.Claim) []port.Claim { return claims }

func outs(o ...port.Outcome) []port.Outcome { return o }

func outcomes(o port.Outcome, n int) []port.Outcome {
	out := make([]port.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func testFreshKeys(t *testing.T, s *suite) {
	s.committed("ns", "A", cs(
		c("k1", "s3://raw/a.csv@v1#1"),
		c("k2", "s3://raw/a.csv@v1#2"),
		c("k3", "live_streaming/0/17"),
	), outs(fresh, fresh, fresh))
	s.committed("ns", "B", cs(c("k4", "o4")), outs(fresh))
}

func testSameOriginRetry(t *testing.T, s *suite) {
	batch := cs(c("k1", "topic/0/1"), c("k2", "topic/0/2"))
	s.begin("A")
	s.claim("ns", "A", batch, outs(fresh, fresh))
	s.claim("ns", "A", batch, outs(retry, retry)) // a retry before the commit
	s.commit("A")
	s.claim("ns", "A", batch, outs(retry, retry)) // and after it
	s.claim("ns", "A", batch[1:], outs(retry))
}

func testOtherOriginDuplicate(t *testing.T, s *suite) {
	s.committed("ns", "A", cs(c("k1", "topic/0/1")), outs(fresh))
	s.begin("B")
	s.claim("ns", "B", cs(c("k1", "topic/0/9")), outs(dup))
	s.claim("ns", "B", cs(c("k1", "topic/1/1")), outs(dup))
	s.commit("B")
	// The duplicate attempts did not take the key over.
	s.claim("ns", "C", cs(c("k1", "topic/0/1")), outs(retry))
	s.claim("ns", "C", cs(c("k1", "topic/0/9")), outs(dup))
}

func testSameTxnDuplicate(t *testing.T, s *suite) {
	// The same record twice in one file: the second is a duplicate at once,
	// whatever becomes of the file (both rows commit or abort together).
	s.begin("A")
	s.claim("ns", "A", cs(c("k", "f@v1#1")), outs(fresh))
	s.claim("ns", "A", cs(c("k", "f@v1#7")), outs(dup))
	s.claim("ns", "A", cs(c("k", "f@v1#1"), c("k", "f@v1#7")), outs(retry, dup))
}

func testMixedBatch(t *testing.T, s *suite) {
	s.committed("ns", "A", cs(c("a", "oa"), c("e", "oe")), outs(fresh, fresh))
	s.begin("B")
	s.claim("ns", "B", cs(
		c("a", "oa"),  // stored, same origin
		c("b", "ob1"), // new
		c("b", "ob1"), // in-batch repeat, same origin
		c("b", "ob2"), // in-batch repeat, other origin
		c("a", "ox"),  // stored (committed), other origin
		c("c", "oc1"), // new
		c("e", "ox"),  // stored, other origin first...
		c("e", "oe"),  // ...then the stored owner: still a retry
		c("c", "oc2"), // in-batch repeat, other origin
		c("b", "ob1"), // in-batch repeat, same origin, after a duplicate
		c("a", "oa"),  // stored, same origin again
		c("d", "od"),  // new, last
	), outs(retry, fresh, retry, dup, dup, fresh, dup, retry, dup, retry, retry, fresh))
	s.commit("B")
	// What the batch stored: the first origin of each new key.
	s.committed("ns", "C", cs(
		c("b", "ob2"), c("c", "oc1"), c("b", "ob1"), c("d", "od"), c("e", "ox"), c("c", "oc2"),
	), outs(dup, retry, retry, retry, dup, dup))
	// A batch whose first claim of a new key is followed by other origins only.
	s.committed("ns", "D", cs(c("f", "of1"), c("f", "of2"), c("f", "of3")), outs(fresh, dup, dup))
}

func testNamespaces(t *testing.T, s *suite) {
	s.begin("A")
	s.claim("live_streaming", "A", cs(c("k", "o1")), outs(fresh))
	s.claim("video_interactions", "A", cs(c("k", "o2")), outs(fresh))
	s.commit("A")
	s.begin("B")
	s.claim("live_streaming", "B", cs(c("k", "o2")), outs(dup))
	s.claim("video_interactions", "B", cs(c("k", "o2")), outs(retry))
	s.claim("live_streaming", "B", cs(c("k", "o1")), outs(retry))
	s.claim("social_sales", "B", cs(c("k", "o1")), outs(fresh))
}

func testHeldUntilCommit(t *testing.T, s *suite) {
	s.begin("A")
	s.claim("ns", "A", cs(c("k", "a#1"), c("j", "a#2")), outs(fresh, fresh))
	s.begin("B")
	// A is in flight: B cannot know yet whether k is a duplicate.
	s.claim("ns", "B", cs(c("k", "b#1"), c("n", "b#2")), outs(held, fresh))
	s.commit("A")
	s.claim("ns", "B", cs(c("k", "b#1"), c("j", "b#3"), c("n", "b#2")), outs(dup, dup, retry))
	s.commit("B")
	s.state("A", port.TxnCommitted)
	s.state("B", port.TxnCommitted)
}

func testHeldInCall(t *testing.T, s *suite) {
	s.begin("A")
	s.claim("ns", "A", cs(c("k", "a#1")), outs(fresh))
	s.begin("B")
	s.claim("ns", "B", cs(c("k", "b#1"), c("k", "b#2"), c("k", "b#1"), c("m", "b#3"), c("m", "b#4")),
		outs(held, held, held, fresh, dup))
}

func testAbortReleases(t *testing.T, s *suite) {
	// A file cleaned 3 records, then failed until it was quarantined.
	s.begin("v1")
	s.claim("ns", "v1", cs(c("k1", "f@v1#1"), c("k2", "f@v1#2"), c("k3", "f@v1#3")), outs(fresh, fresh, fresh))
	s.abort("v1")
	s.abort("v1") // harmless
	s.state("v1", port.TxnAborted)
	// The complete file, uploaded again as a new version: nothing is a duplicate.
	s.begin("v2")
	s.claim("ns", "v2", cs(c("k1", "f@v2#1"), c("k2", "f@v2#2"), c("k3", "f@v2#3"), c("k4", "f@v2#4")),
		outs(fresh, fresh, fresh, fresh))
	// The quarantined v1 replayed meanwhile: v2 is in flight, so v1 waits...
	s.begin("v1")
	s.claim("ns", "v1", cs(c("k1", "f@v1#1")), outs(held))
	s.commit("v2")
	// ...and once v2 committed, v1's records are duplicates.
	s.claim("ns", "v1", cs(c("k1", "f@v1#1"), c("k2", "f@v1#2")), outs(dup, dup))
	s.commit("v1")
	if err := s.d.Abort(ctx, "v2"); !errors.Is(err, port.ErrTxnCommitted) {
		t.Fatalf("Abort of a committed txn: %v, want ErrTxnCommitted", err)
	}
	s.claim("ns", "C", cs(c("k3", "x#1")), outs(dup))
}

func testDeadlineTakeover(t *testing.T, s *suite) {
	if err := s.d.Begin(ctx, "A", s.clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.claim("ns", "A", cs(c("k", "a#1"), c("j", "a#2")), outs(fresh, fresh))
	s.begin("B")
	s.clock.Advance(9 * time.Minute)
	s.claim("ns", "B", cs(c("k", "b#1")), outs(held))
	// A's work died: past its deadline, its claims are taken over.
	s.clock.Advance(2 * time.Minute)
	s.claim("ns", "B", cs(c("k", "b#1")), outs(fresh))
	// Taking over aborted A: its late commit is refused.
	s.state("A", port.TxnAborted)
	if err := s.d.Commit(ctx, "A"); !errors.Is(err, port.ErrTxnAborted) {
		t.Fatalf("Commit after takeover: %v, want ErrTxnAborted", err)
	}
	s.claim("ns", "B", cs(c("j", "b#2")), outs(fresh))
	s.commit("B")
	s.claim("ns", "C", cs(c("k", "c#1"), c("j", "a#2")), outs(dup, dup))
	// A deadline renewed by Begin keeps the claims held.
	if err := s.d.Begin(ctx, "D", s.clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.claim("ns", "D", cs(c("x", "d#1")), outs(fresh))
	s.clock.Advance(9 * time.Minute)
	if err := s.d.Begin(ctx, "D", s.clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(9 * time.Minute)
	s.begin("E")
	s.claim("ns", "E", cs(c("x", "e#1")), outs(held))
}

func testRetryMovesTxn(t *testing.T, s *suite) {
	// A stream batch failed; its records came again in a batch made up
	// differently (another txn) that committed.
	s.begin("A")
	s.claim("ns", "A", cs(c("k", "t/0/5"), c("j", "t/0/6")), outs(fresh, fresh))
	s.begin("B")
	s.claim("ns", "B", cs(c("k", "t/0/5")), outs(retry))
	s.commit("B")
	s.abort("A") // A is given up: k moved to B and stays claimed, j is released
	s.begin("C")
	s.claim("ns", "C", cs(c("k", "t/9/9"), c("j", "t/9/8")), outs(dup, fresh))
	s.commit("C")
	// A retry of a committed claim in a txn that is then aborted leaves the
	// claim with its committed txn.
	s.begin("D")
	s.claim("ns", "D", cs(c("j", "t/9/8")), outs(retry))
	s.abort("D")
	s.claim("ns", "E", cs(c("j", "t/7/7")), outs(dup))
}

func testTxnStates(t *testing.T, s *suite) {
	s.state("never", port.TxnUnknown)
	s.begin("A")
	s.state("A", port.TxnPending)
	s.commit("A")
	s.commit("A") // harmless
	s.state("A", port.TxnCommitted)
	s.begin("A") // a committed txn stays committed when it is run again
	s.state("A", port.TxnCommitted)
	if err := s.d.Abort(ctx, "A"); !errors.Is(err, port.ErrTxnCommitted) {
		t.Fatalf("Abort(committed): %v, want ErrTxnCommitted", err)
	}
	s.begin("B")
	s.abort("B")
	if err := s.d.Commit(ctx, "B"); !errors.Is(err, port.ErrTxnAborted) {
		t.Fatalf("Commit(aborted): %v, want ErrTxnAborted", err)
	}
	s.begin("B") // an aborted txn run again (a replay) is pending again
	s.state("B", port.TxnPending)
	s.commit("B")
	s.state("B", port.TxnCommitted)
}

func testTTL(t *testing.T, s *suite) {
	s.committed("ns", "A", cs(c("k", "a#1")), outs(fresh))
	s.clock.Advance(TTL - time.Minute)
	s.claim("ns", "B", cs(c("k", "b#1")), outs(dup))
	s.clock.Advance(2 * time.Minute)
	s.begin("C")
	s.claim("ns", "C", cs(c("k", "c#1")), outs(fresh))
}

func testConcurrent(t *testing.T, s *suite) {
	const (
		workers = 8
		keys    = 200
		chunk   = 50
	)
	results := make([][]port.Outcome, workers) // results[w][key]
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn := fmt.Sprintf("txn-%d", w)
			if err := s.d.Begin(ctx, txn, s.clock.Now().Add(time.Hour)); err != nil {
				errs[w] = err
				return
			}
			origin := fmt.Sprintf("topic/%d/0", w)
			results[w] = make([]port.Outcome, keys)
			// Each worker walks the keys from a different starting point,
			// in chunks, so the calls interleave.
			start := (w * keys / workers) % keys
			for off := 0; off < keys; off += chunk {
				batch := make([]port.Claim, chunk)
				idx := make([]int, chunk)
				for i := range chunk {
					k := (start + off + i) % keys
					idx[i] = k
					batch[i] = c(fmt.Sprintf("key-%03d", k), origin)
				}
				got, err := s.d.Claim(ctx, "ns", txn, batch)
				if err != nil {
					errs[w] = err
					return
				}
				if len(got) != chunk {
					errs[w] = fmt.Errorf("got %d outcomes for %d claims", len(got), chunk)
					return
				}
				for i, o := range got {
					results[w][idx[i]] = o
				}
			}
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
	}
	winners := make([]int, keys)
	for k := range keys {
		var nFresh, nHeld int
		for w := range workers {
			switch results[w][k] {
			case fresh:
				nFresh++
				winners[k] = w
			case held:
				nHeld++
			}
		}
		if nFresh != 1 || nHeld != workers-1 {
			t.Fatalf("key-%03d: %d fresh, %d held across %d workers; want 1 and %d",
				k, nFresh, nHeld, workers, workers-1)
		}
	}
	for w := range workers {
		s.commit(fmt.Sprintf("txn-%d", w))
	}
	// Each key now belongs to its winner and to nobody else.
	var batch []port.Claim
	var want []port.Outcome
	for k := range keys {
		batch = append(batch, c(fmt.Sprintf("key-%03d", k), fmt.Sprintf("topic/%d/0", winners[k])))
		want = append(want, retry)
		batch = append(batch, c(fmt.Sprintf("key-%03d", k), fmt.Sprintf("topic/%d/0", (winners[k]+1)%workers)))
		want = append(want, dup)
	}
	s.claim("ns", "check", batch, want)
}

func testEmptyBatch(t *testing.T, s *suite) {
	s.begin("A")
	for _, claims := range [][]port.Claim{nil, {}} {
		got, err := s.d.Claim(ctx, "ns", "A", claims)
		if err != nil {
			t.Fatalf("Claim(empty): %v", err)
		}
		if len(got) != 0 {
			t.Fatalf("Claim(empty) = %v, want no outcomes", got)
		}
	}
	s.claim("ns", "A", cs(c("k", "o")), outs(fresh))
}

func testLargeBatch(t *testing.T, s *suite) {
	const n = 2000
	batch := make([]port.Claim, n)
	for i := range batch {
		batch[i] = c(fmt.Sprintf("event-%05d", i), fmt.Sprintf("s3://raw/big.ndjson@v1#%d", i))
	}
	s.committed("ns", "big", batch, outcomes(fresh, n))
	// Replay: even rows from the same position (a retry), odd rows from a
	// later file (duplicates).
	again := slices.Clone(batch)
	want := make([]port.Outcome, n)
	for i := range again {
		want[i] = retry
		if i%2 == 1 {
			again[i].Origin = fmt.Sprintf("s3://raw/big2.ndjson@v1#%d", i)
			want[i] = dup
		}
	}
	s.committed("ns", "big2", again, want)
}

func testCanceled(t *testing.T, s *suite) {
	s.begin("A")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.d.Claim(canceled, "ns", "A", cs(c("k", "o1"))); err == nil {
		t.Fatal("Claim with a canceled context: got no error")
	}
	// Whatever the canceled call did or did not record, the key stays
	// consistent: the first origin to succeed owns it.
	got, err := s.d.Claim(ctx, "ns", "A", cs(c("k", "o1"), c("k", "o2")))
	if err != nil {
		t.Fatalf("Claim after cancel: %v", err)
	}
	if (got[0] != fresh && got[0] != retry) || got[1] != dup {
		t.Fatalf("Claim after cancel = %v, want [fresh|retry duplicate]", got)
	}
}
