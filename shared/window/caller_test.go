package window_test

import (
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/window"
)

// TestCallerWatermark: with CallerWatermark, events do not move the
// watermark (only AdvanceTo does), and an event carrying its input's
// watermark misses the windows ending at or before it while they are
// still open for the others.
func TestCallerWatermark(t *testing.T) {
	e, err := window.New(window.Config{Assigners: []window.Assigner{window.Tumbling(5 * time.Minute).Named("t")},
		Aggregate: window.Sum(), AllowedLateness: 5 * time.Minute, IdleTimeout: -1, CallerWatermark: true})
	if err != nil {
		t.Fatal(err)
	}
	// Input A is at 10:20 (watermark 10:15); B has not passed 10:00.
	out := e.Apply(hm(10, 20), []window.Event{
		{Key: "k", Time: hm(10, 20), Value: 1},
		{Key: "k", Time: hm(10, 3), Value: 2, Watermark: hm(10, 15)}, // A's: late for [10:00,10:05)
		{Key: "k", Time: hm(10, 4), Value: 4},                        // B's: on time
	})
	if _, ok := e.Watermark(); ok {
		t.Errorf("the events moved the watermark")
	}
	if len(out.Late) != 1 || out.Late[0].Event.Value != 2 || len(out.Late[0].Missed) != 1 ||
		fmtWin(out.Late[0].Missed[0].Window) != "[10:00:00,10:05:00)" {
		t.Fatalf("late %+v; want the 10:03 event, missing [10:00,10:05)", out.Late)
	}
	for _, r := range out.Results {
		if r.Final {
			t.Errorf("final result %+v before the caller moved the watermark", r)
		}
	}
	fin := e.AdvanceTo(hm(10, 5))
	if len(fin.Results) != 1 || !fin.Results[0].Final || fin.Results[0].Value.Sum != 4 || fmtWin(fin.Results[0].Window) != "[10:00:00,10:05:00)" {
		t.Fatalf("after AdvanceTo(10:05): %+v; want [10:00,10:05) final with sum 4", fin.Results)
	}
}
