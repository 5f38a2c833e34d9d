// Package dedupetest is the conformance suite for pipeline.Dedupe. Every
// implementation (in-memory, DynamoDB Local, LocalStack) runs the same
// suite from its own tests:
//
//	func TestDedupe(t *testing.T) {
//		dedupetest.Run(t, func(t *testing.T) pipeline.Dedupe { return memory.NewDedupe() })
//	}
//
// newDedupe is called once per subtest and must return an empty store.
package dedupetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

const (
	fresh = pipeline.Fresh
	retry = pipeline.Retry
	dup   = pipeline.Duplicate
)

// Run runs the conformance suite against the implementation newDedupe builds.
func Run(t *testing.T, newDedupe func(t *testing.T) pipeline.Dedupe) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, d pipeline.Dedupe)
	}{
		{"fresh keys", testFreshKeys},
		{"same origin again is a retry", testSameOriginRetry},
		{"other origin is a duplicate", testOtherOriginDuplicate},
		{"mixed batch with in-batch repeats", testMixedBatch},
		{"namespaces isolated", testNamespaces},
		{"concurrent claims of the same keys", testConcurrent},
		{"empty batch", testEmptyBatch},
		{"batch of 2000 claims", testLargeBatch},
		{"canceled context", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newDedupe(t))
		})
	}
}

// claim calls d.Claim and fails the test unless the outcomes are exactly want.
func claim(t *testing.T, d pipeline.Dedupe, ns string, claims []pipeline.Claim, want []pipeline.Outcome) {
	t.Helper()
	got, err := d.Claim(context.Background(), ns, claims)
	if err != nil {
		t.Fatalf("Claim(%q, %d claims): %v", ns, len(claims), err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Claim(%q, %v):\n got  %v\n want %v", ns, claims, got, want)
	}
}

func c(key, origin string) pipeline.Claim { return pipeline.Claim{Key: key, Origin: origin} }

func outcomes(o pipeline.Outcome, n int) []pipeline.Outcome {
	out := make([]pipeline.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func testFreshKeys(t *testing.T, d pipeline.Dedupe) {
	claim(t, d, "ns", []pipeline.Claim{
		c("k1", "s3://raw/a.csv#v1#1"),
		c("k2", "s3://raw/a.csv#v1#2"),
		c("k3", "live_streaming/0/17"),
	}, []pipeline.Outcome{fresh, fresh, fresh})
	claim(t, d, "ns", []pipeline.Claim{c("k4", "o4")}, []pipeline.Outcome{fresh})
}

func testSameOriginRetry(t *testing.T, d pipeline.Dedupe) {
	batch := []pipeline.Claim{c("k1", "topic/0/1"), c("k2", "topic/0/2")}
	claim(t, d, "ns", batch, []pipeline.Outcome{fresh, fresh})
	claim(t, d, "ns", batch, []pipeline.Outcome{retry, retry})
	claim(t, d, "ns", batch, []pipeline.Outcome{retry, retry})
	claim(t, d, "ns", batch[1:], []pipeline.Outcome{retry})
}

func testOtherOriginDuplicate(t *testing.T, d pipeline.Dedupe) {
	claim(t, d, "ns", []pipeline.Claim{c("k1", "topic/0/1")}, []pipeline.Outcome{fresh})
	claim(t, d, "ns", []pipeline.Claim{c("k1", "topic/0/9")}, []pipeline.Outcome{dup})
	claim(t, d, "ns", []pipeline.Claim{c("k1", "topic/1/1")}, []pipeline.Outcome{dup})
	// The duplicate attempts did not take the key over.
	claim(t, d, "ns", []pipeline.Claim{c("k1", "topic/0/1")}, []pipeline.Outcome{retry})
	claim(t, d, "ns", []pipeline.Claim{c("k1", "topic/0/9")}, []pipeline.Outcome{dup})
}

func testMixedBatch(t *testing.T, d pipeline.Dedupe) {
	claim(t, d, "ns", []pipeline.Claim{c("a", "oa"), c("e", "oe")}, []pipeline.Outcome{fresh, fresh})
	claim(t, d, "ns", []pipeline.Claim{
		c("a", "oa"),  // stored, same origin
		c("b", "ob1"), // new
		c("b", "ob1"), // in-batch repeat, same origin
		c("b", "ob2"), // in-batch repeat, other origin
		c("a", "ox"),  // stored, other origin
		c("c", "oc1"), // new
		c("e", "ox"),  // stored, other origin first...
		c("e", "oe"),  // ...then the stored owner: still a retry
		c("c", "oc2"), // in-batch repeat, other origin
		c("b", "ob1"), // in-batch repeat, same origin, after a duplicate
		c("a", "oa"),  // stored, same origin again
		c("d", "od"),  // new, last
	}, []pipeline.Outcome{retry, fresh, retry, dup, dup, fresh, dup, retry, dup, retry, retry, fresh})
	// What the batch stored: the first origin of each new key.
	claim(t, d, "ns", []pipeline.Claim{
		c("b", "ob2"), c("c", "oc1"), c("b", "ob1"), c("d", "od"), c("e", "ox"), c("c", "oc2"),
	}, []pipeline.Outcome{dup, retry, retry, retry, dup, dup})
	// A batch whose first claim of a new key is followed by other origins only.
	claim(t, d, "ns", []pipeline.Claim{c("f", "of1"), c("f", "of2"), c("f", "of3")},
		[]pipeline.Outcome{fresh, dup, dup})
}

func testNamespaces(t *testing.T, d pipeline.Dedupe) {
	claim(t, d, "live_streaming", []pipeline.Claim{c("k", "o1")}, []pipeline.Outcome{fresh})
	claim(t, d, "video_interactions", []pipeline.Claim{c("k", "o2")}, []pipeline.Outcome{fresh})
	claim(t, d, "live_streaming", []pipeline.Claim{c("k", "o2")}, []pipeline.Outcome{dup})
	claim(t, d, "video_interactions", []pipeline.Claim{c("k", "o2")}, []pipeline.Outcome{retry})
	claim(t, d, "live_streaming", []pipeline.Claim{c("k", "o1")}, []pipeline.Outcome{retry})
	claim(t, d, "social_sales", []pipeline.Claim{c("k", "o1")}, []pipeline.Outcome{fresh})
}

func testConcurrent(t *testing.T, d pipeline.Dedupe) {
	const (
		workers = 8
		keys    = 200
		chunk   = 50
	)
	results := make([][]pipeline.Outcome, workers) // results[w][key]
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			origin := fmt.Sprintf("topic/%d/0", w)
			results[w] = make([]pipeline.Outcome, keys)
			// Each worker walks the keys from a different starting point,
			// in chunks, so the calls interleave.
			start := (w * keys / workers) % keys
			for off := 0; off < keys; off += chunk {
				batch := make([]pipeline.Claim, chunk)
				idx := make([]int, chunk)
				for i := range chunk {
					k := (start + off + i) % keys
					idx[i] = k
					batch[i] = c(fmt.Sprintf("key-%03d", k), origin)
				}
				got, err := d.Claim(context.Background(), "ns", batch)
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
		var nFresh, nDup int
		for w := range workers {
			switch results[w][k] {
			case fresh:
				nFresh++
				winners[k] = w
			case dup:
				nDup++
			}
		}
		if nFresh != 1 || nDup != workers-1 {
			t.Fatalf("key-%03d: %d fresh, %d duplicate across %d workers; want 1 and %d",
				k, nFresh, nDup, workers, workers-1)
		}
	}
	// Each key now belongs to its winner and to nobody else.
	var batch []pipeline.Claim
	var want []pipeline.Outcome
	for k := range keys {
		batch = append(batch, c(fmt.Sprintf("key-%03d", k), fmt.Sprintf("topic/%d/0", winners[k])))
		want = append(want, retry)
		batch = append(batch, c(fmt.Sprintf("key-%03d", k), fmt.Sprintf("topic/%d/0", (winners[k]+1)%workers)))
		want = append(want, dup)
	}
	claim(t, d, "ns", batch, want)
}

func testEmptyBatch(t *testing.T, d pipeline.Dedupe) {
	for _, claims := range [][]pipeline.Claim{nil, {}} {
		got, err := d.Claim(context.Background(), "ns", claims)
		if err != nil {
			t.Fatalf("Claim(empty): %v", err)
		}
		if len(got) != 0 {
			t.Fatalf("Claim(empty) = %v, want no outcomes", got)
		}
	}
	claim(t, d, "ns", []pipeline.Claim{c("k", "o")}, []pipeline.Outcome{fresh})
}

func testLargeBatch(t *testing.T, d pipeline.Dedupe) {
	const n = 2000
	batch := make([]pipeline.Claim, n)
	for i := range batch {
		batch[i] = c(fmt.Sprintf("event-%05d", i), fmt.Sprintf("s3://raw/big.ndjson#v1#%d", i))
	}
	claim(t, d, "ns", batch, outcomes(fresh, n))
	// Replay: even rows from the same position (a retry), odd rows from a
	// later file (duplicates).
	again := slices.Clone(batch)
	want := make([]pipeline.Outcome, n)
	for i := range again {
		want[i] = retry
		if i%2 == 1 {
			again[i].Origin = fmt.Sprintf("s3://raw/big2.ndjson#v1#%d", i)
			want[i] = dup
		}
	}
	claim(t, d, "ns", again, want)
}

func testCanceled(t *testing.T, d pipeline.Dedupe) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Claim(ctx, "ns", []pipeline.Claim{c("k", "o1")}); err == nil {
		t.Fatal("Claim with a canceled context: got no error")
	}
	// Whatever the canceled call did or did not record, the key stays
	// consistent: the first origin to succeed owns it.
	got, err := d.Claim(context.Background(), "ns", []pipeline.Claim{c("k", "o1"), c("k", "o2")})
	if err != nil {
		t.Fatalf("Claim after cancel: %v", err)
	}
	if (got[0] != fresh && got[0] != retry) || got[1] != dup {
		t.Fatalf("Claim after cancel = %v, want [fresh|retry duplicate]", got)
	}
}
