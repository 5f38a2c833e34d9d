package memory_test

import (
	"context"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/window"
)

// BenchmarkStateSave is one save of a processor's state the size of the
// demo's largest (session_metrics, about 20 KB): the cost the local
// stack's folder adds to every stream batch per processor it touches,
// against the store in memory only.
func BenchmarkStateSave(b *testing.B) {
	state := make([]byte, 20<<10)
	for i := range state {
		state[i] = 'a' + byte(i%26)
	}
	for _, tc := range []struct {
		name string
		open func(b *testing.B) window.Store
	}{
		{"Folder", func(b *testing.B) window.Store {
			s, err := memory.OpenWindowStore(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"Memory", func(*testing.B) window.Store { return memory.NewWindowStore() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.open(b)
			ctx := context.Background()
			b.SetBytes(int64(len(state)))
			v := int64(0)
			for b.Loop() {
				if err := s.Save(ctx, "stream/session_metrics", state, v); err != nil {
					b.Fatal(err)
				}
				v++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
		})
	}
}
