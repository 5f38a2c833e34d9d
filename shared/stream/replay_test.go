package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// socialAt is a seed 001 record at 12:mm on 2024-02-03 (the rig's clock is 12:00 that day).
func socialAt(offset int64, id, platform string, minute, visitors int) port.Message {
	ts := time.Date(2024, 2, 3, 12, minute, 0, 0, time.UTC).Unix()
	return msg("social_sales", offset, fmt.Sprintf(`{"ID": %q, "Kota": "Depok", "Sosial_Media": %q, "Usage_Count": 10, "Sales": 5, "Visitors": %d, "PageVisitors": 3, "Conversion": 2, "Ts": %d}`,
		id, platform, visitors, ts))
}

// replayStream is one batch of social_sales with records rejected for an
// unknown platform (Myspace), and what their replay must do once Myspace
// is known. Lateness 5 min, tumbling 5-minute windows. In offset order:
//
//	0 a Instagram 12:01  loaded                       watermark 11:56
//	1 b Myspace   12:02  rejected -> loaded, late: [12:00, 12:05) closed (watermark 12:07 when replayed)
//	2 c Instagram 12:12  loaded                       watermark 12:07: [12:00, 12:05) closes
//	3 d Myspace   12:11  rejected -> loaded: [12:10, 12:15) still open
//	4 a Myspace   12:13  rejected -> duplicate: ID a was loaded at offset 0
//	5 (cut JSON)         rejected, stays rejected with the same reason
//	6 e Myspace   12:14, Visitors 0: rejected for the platform -> still rejected, now for ConversionRate
//
// The replay: received 5 = loaded 2 (1 late) + rejected 2 + duplicate 1.
func replayStream() []port.Message {
	return []port.Message{
		socialAt(0, "a", "Instagram", 1, 100),
		socialAt(1, "b", "Myspace", 2, 100),
		socialAt(2, "c", "Instagram", 12, 100),
		socialAt(3, "d", "Myspace", 11, 100),
		socialAt(4, "a", "Myspace", 13, 100),
		msg("social_sales", 5, `{"ID": "f", "Kota": "De`),
		socialAt(6, "e", "Myspace", 14, 0),
	}
}

func TestReplaySocialSalesAfterFix(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	res, err := r.p.Process(ctx, replayStream())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Topics["social_sales"].Counts; got != (port.Counts{Received: 7, Loaded: 2, Rejected: 5}) {
		t.Fatalf("batch counts %s", got)
	}
	before := r.state.dump(t)

	// Without the fix nothing passes: nothing is written.
	rr, err := r.p.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Files) != 1 || rr.Files[0].ManifestID != "" || rr.Total() != (port.Counts{Received: 5, Rejected: 5}) {
		t.Fatalf("replay before the fix: %+v", rr)
	}
	diffMaps(t, "window state after a replay where nothing passes", r.state.dump(t), before)

	defer dataset.AddPlatform("Myspace")()
	rr, err = r.p.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	f := rr.Files[0]
	if want := (port.Counts{Received: 5, Loaded: 2, Rejected: 2, Duplicate: 1, Late: 1}); f.Counts != want || f.LateRows != 1 || f.Pending != 0 {
		t.Fatalf("replay: %+v; want counts %s, 1 late row", f, want)
	}
	// b is loaded although its window had closed: it only misses that window.
	checkRows(t, r, "SELECT RECORD_ID, PLATFORM FROM FACT_SOCIAL_SALES ORDER BY RECORD_ID", "[[a Instagram] [b Myspace] [c Instagram] [d Myspace]]")
	checkRows(t, r, "SELECT DATASET, WINDOW_TYPE, WINDOW_START, ORIGIN FROM PULSE_LATE_EVENTS",
		"[[social_sales tumbling 2024-02-03 12:00:00 +0000 UTC social_sales/0/1]]")
	checkRows(t, r, "SELECT PLATFORM, WINDOW_START, EVENTS, FINAL FROM SOCIAL_PLATFORM_METRICS ORDER BY PLATFORM, WINDOW_START",
		"[[Instagram 2024-02-03 12:00:00 +0000 UTC 1 true] [Instagram 2024-02-03 12:10:00 +0000 UTC 1 false] [Myspace 2024-02-03 12:10:00 +0000 UTC 1 false]]")
	checkRows(t, r, "SELECT ROW_POS, REPLAYED FROM PULSE_REJECTS ORDER BY ROW_POS", "[[1 true] [3 true] [4 true] [5 false] [6 false]]")
	checkRows(t, r, "SELECT FILE_ID, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE, STATUS FROM PULSE_MANIFESTS WHERE STATUS = 'replayed'",
		fmt.Sprintf("[[%s 5 2 2 1 1 replayed]]", f.ManifestID))
	// The quarantine keeps the two that still fail, the last with its new reason.
	if got := quarantineLines(t, r); got != "5 value invalid JSON: unterminated string at offset 23\n6 ConversionRate Visitors is 0: division by zero" {
		t.Fatalf("quarantine after the replay:\n%s", got)
	}

	// Replaying again finds only those two and writes nothing.
	state := r.state.dump(t)
	wh := dumpWarehouse(t, r.wh)
	rr, err = r.p.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	if rr.Total() != (port.Counts{Received: 2, Rejected: 2}) || rr.Files[0].ManifestID != "" {
		t.Fatalf("second replay: %+v", rr)
	}
	diffMaps(t, "state after the second replay", r.state.dump(t), state)
	diffMaps(t, "warehouse after the second replay", joinRows(dumpWarehouse(t, r.wh)), joinRows(wh))

	// The ledger did not move: a redelivery of the batch is still skipped,
	// and the next offset is new.
	res, err = r.p.Process(ctx, replayStream())
	if err != nil {
		t.Fatal(err)
	}
	if tr := res.Topics["social_sales"]; tr.Redelivered != 7 || tr.Counts.Received != 0 {
		t.Fatalf("redelivery after the replay: %+v", tr)
	}
	res, err = r.p.Process(ctx, []port.Message{socialAt(7, "g", "Myspace", 13, 100)})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Topics["social_sales"].Counts; got != (port.Counts{Received: 1, Loaded: 1}) {
		t.Fatalf("the next offset after the replay: %s", got)
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkRows(t, r, "SELECT PLATFORM, EVENTS, VISITORS, FINAL FROM SOCIAL_PLATFORM_METRICS WHERE WINDOW_START = TIMESTAMP '2024-02-03 12:10:00' ORDER BY PLATFORM",
		"[[Instagram 1 100 true] [Myspace 2 200 true]]")
}

// TestReplayCrashAtEveryStep: a replay that fails after any of its steps,
// then runs again, leaves warehouse, window state and quarantine as one
// clean replay does.
func TestReplayCrashAtEveryStep(t *testing.T) {
	ctx := context.Background()
	defer dataset.AddPlatform("Myspace")()
	run := func(crashAfter string) (map[string]string, map[string]string, string) {
		r := newRig(t, stream.Config{IdleTimeout: -1})
		// The rejects first, the fix after: AddPlatform is already in effect,
		// so the batch's Myspace records are made to fail another way.
		msgs := replayStream()
		for i := range msgs {
			msgs[i].Value = []byte(strings.ReplaceAll(string(msgs[i].Value), "Myspace", "Myspace!"))
		}
		if _, err := r.p.Process(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		fixQuarantine(t, r)
		if crashAfter != "" {
			r.fail = func(step string) error {
				if step == crashAfter {
					return errors.New("injected crash")
				}
				return nil
			}
			if _, err := r.p.Replay(ctx, "social_sales"); err == nil {
				t.Fatalf("crash after %s: the replay succeeded", crashAfter)
			}
			r.fail = nil
		}
		rr, err := r.p.Replay(ctx, "social_sales")
		if err != nil {
			t.Fatal(err)
		}
		// After the save the rerun only finishes: it takes the 3 records
		// applied out of quarantine (after the rewrite they are out already).
		finished := map[string]int64{stream.StepReplaySave: 3, stream.StepReplayRewrite: 0}[crashAfter]
		if f := rr.Files[0]; crashAfter == stream.StepReplaySave || crashAfter == stream.StepReplayRewrite {
			if f.Finished != finished || f.ManifestID != "" || f.Counts.Received != 0 {
				t.Errorf("rerun after a crash after %s: %+v; want it to finish %d records and count none", crashAfter, f, finished)
			}
		}
		return joinRows(dumpWarehouse(t, r.wh)), r.state.dump(t), quarantineLines(t, r)
	}
	wantWH, wantState, wantQ := run("")
	if !strings.Contains(wantWH["FACT_SOCIAL_SALES"], "Myspace") {
		t.Fatal("the clean replay loaded no Myspace record")
	}
	for _, step := range []string{stream.StepReplayMerge, stream.StepReplaySave, stream.StepReplayRewrite} {
		t.Run(step, func(t *testing.T) {
			wh, state, q := run(step)
			diffMaps(t, "warehouse", wh, wantWH)
			diffMaps(t, "window state", state, wantState)
			if q != wantQ {
				t.Errorf("quarantine\n got  %s\n want %s", q, wantQ)
			}
		})
	}
}

// fixQuarantine edits the quarantined records as a fix at the source would
// ("Myspace!" -> "Myspace"), so that TestReplayCrashAtEveryStep can reject
// them with AddPlatform already in effect.
func fixQuarantine(t *testing.T, r *rig) {
	t.Helper()
	ctx := context.Background()
	objs, err := r.objects.List(ctx, buckets.Quarantine, stream.QuarantinePrefix("social_sales"))
	if err != nil || len(objs) != 1 {
		t.Fatalf("quarantine objects %v %v", objs, err)
	}
	body, _, err := r.objects.Get(ctx, buckets.Quarantine, objs[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	fixed := strings.ReplaceAll(string(b), `Myspace!`, `Myspace`)
	if _, err := r.objects.Put(ctx, buckets.Quarantine, objs[0].Key, strings.NewReader(fixed), int64(len(fixed))); err != nil {
		t.Fatal(err)
	}
}

// quarantineLines renders the stream quarantine of social_sales: offset, field, reason.
func quarantineLines(t *testing.T, r *rig) string {
	t.Helper()
	ctx := context.Background()
	objs, err := r.objects.List(ctx, buckets.Quarantine, stream.QuarantinePrefix("social_sales"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range objs {
		body, _, err := r.objects.Get(ctx, buckets.Quarantine, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range decodeQuarantine(t, body) {
			lines = append(lines, fmt.Sprintf("%d %s %s", q.Pos, q.Field, q.Reason))
		}
		body.Close()
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func checkRows(t *testing.T, r *rig, q, want string) {
	t.Helper()
	_, rows, err := r.wh.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if got := fmt.Sprint(rows); got != want {
		t.Errorf("%s\n got  %s\n want %s", q, got, want)
	}
}

func decodeQuarantine(t *testing.T, body io.Reader) []port.QuarantineRecord {
	t.Helper()
	var out []port.QuarantineRecord
	dec := json.NewDecoder(body)
	for {
		var q port.QuarantineRecord
		if err := dec.Decode(&q); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
}
