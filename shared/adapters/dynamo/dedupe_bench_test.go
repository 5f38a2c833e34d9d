package dynamo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// BenchmarkDedupeClaim measures DynamoDB writes per event and claims/s
// against DynamoDB Local, for batches where every tenth event repeats an
// earlier event of the same batch (a producer resend, at another offset).
// Expected: 0.9 writes/event plus two per batch (Begin and Commit of its
// transaction), since in-batch repeats cost no write.
//
//	go test -run '^$' -bench DedupeClaim -benchtime 3x ./shared/adapters/dynamo/
func BenchmarkDedupeClaim(b *testing.B) {
	client := localClient(b)
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			d := NewDedupe(client, freshTable(b, client), time.Hour)
			ctx := context.Background()
			batches := make([][]port.Claim, b.N)
			for it := range batches {
				batches[it] = benchBatch(it, n)
			}
			b.ResetTimer()
			start := time.Now()
			for it := range b.N {
				txn := fmt.Sprintf("batch-%d", it)
				if err := d.Begin(ctx, txn, time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
				out, err := d.Claim(ctx, "bench", txn, batches[it])
				if err != nil {
					b.Fatal(err)
				}
				checkBenchOutcomes(b, out)
				if err := d.Commit(ctx, txn); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			events := float64(n * b.N)
			b.ReportMetric(float64(d.Writes())/events, "writes/event")
			b.ReportMetric(events/elapsed.Seconds(), "claims/s")
		})
	}
}

// benchBatch builds batch it of n claims: claim i is event i at offset i,
// except every tenth claim, which resends the event five places earlier.
func benchBatch(it, n int) []port.Claim {
	claims := make([]port.Claim, n)
	for i := range claims {
		ev := i
		if i%10 == 9 {
			ev = i - 5
		}
		claims[i] = port.Claim{
			Key:    fmt.Sprintf("b%d-ev%d", it, ev),
			Origin: fmt.Sprintf("topic/0/%d", it*n+i),
		}
	}
	return claims
}

func checkBenchOutcomes(b *testing.B, out []port.Outcome) {
	b.Helper()
	for i, o := range out {
		want := port.Fresh
		if i%10 == 9 {
			want = port.Duplicate
		}
		if o != want {
			b.Fatalf("claim %d: %v, want %v", i, o, want)
		}
	}
}
