package stream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// stateCompatStream is the stream testdata/state-format1.json was made
// from: its first stateCompatCut messages, in batches of 100, through the
// stream path as it was before the watermarks were kept per partition
// (commit 6d88eb9), IdleTimeout -1, the rig's clock.
var stateCompatStream = sim.Config{Seed: 7, Rate: 0.2, MaxEvents: 1200, DuplicatePct: 3, LatePct: 8, MalformedPct: 2, Format: sim.FormatJSON,
	Start: time.Date(2024, 2, 3, 8, 0, 0, 0, time.UTC)}

const stateCompatCut = 700

// TestStateWrittenBeforePartitionWatermarksLoads loads the state the
// previous code saved (one watermark per topic, state version 1) and goes
// on with the rest of the stream: the outcome is the one of a run that
// did all of it with today's code (one partition per topic: a topic's
// watermark is its partition 0's).
func TestStateWrittenBeforePartitionWatermarksLoads(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/state-format1.json")
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]string{}
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(old["stream/session_metrics"], `"max":{"sign_in":`) ||
		!strings.Contains(old["stream/user_registration_metrics"], `"proc":{"format":1,"config":`) {
		t.Fatal("testdata/state-format1.json is not the version 1 state (per topic watermarks, bare engine snapshots)")
	}
	msgs, _ := simMessages(t, stateCompatStream)
	cfg := stream.Config{IdleTimeout: -1}

	// Both runs process the first part with today's code (the same
	// warehouse and dedupe keys); then one of them has its state replaced
	// by the previous code's, saved after the same batches.
	whole, resumed := newRig(t, cfg), newRig(t, cfg)
	for _, r := range []*rig{whole, resumed} {
		for _, b := range batches(msgs[:stateCompatCut], 100) {
			if _, err := r.p.Process(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, st := range old {
		_, v, err := resumed.state.Load(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := resumed.state.Save(ctx, name, []byte(st), v); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*rig{whole, resumed} {
		for _, b := range batches(msgs[stateCompatCut:], 100) {
			if _, err := r.p.Process(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, resumed.wh)), joinRows(dumpWarehouse(t, whole.wh)))
	// And the states it saved are the whole run's, now in version 2.
	gs, ws := resumed.state.dump(t), whole.state.dump(t)
	for name, s := range ws {
		_, wst, _ := strings.Cut(s, " ") // the versions differ: the resumed run saved once more
		_, gst, _ := strings.Cut(gs[name], " ")
		if gst != wst {
			t.Errorf("state %s:\n got  %s\n want %s", name, clip(gst), clip(wst))
		}
	}
	if !strings.Contains(gs["stream/session_metrics"], `"v":2`) || !strings.Contains(gs["stream/session_metrics"], `"sign_in/0":`) {
		t.Errorf("session state not saved in version 2: %s", clip(gs["stream/session_metrics"]))
	}
}

// partitioned numbers msgs as a topic of n partitions would: a message
// goes to the partition of its key (FNV here: any fixed function of the
// key will do), offsets count per partition.
func partitioned(msgs []pipeline.Message, n int) []pipeline.Message {
	out := make([]pipeline.Message, len(msgs))
	offsets := map[string]int64{}
	for i, m := range msgs {
		h := fnv.New32a()
		h.Write(m.Key)
		m.Partition = int32(h.Sum32() % uint32(n))
		k := m.Topic + "/" + string(rune('0'+m.Partition))
		m.Offset = offsets[k]
		offsets[k]++
		out[i] = m
	}
	return out
}

var floatDigits = regexp.MustCompile(`\d+\.\d{10,}`)

// TestPartitionInterleavingDoesNotMatter runs one stream over topics of 3
// partitions delivered in three ways that each keep every partition's
// order: interleaved as produced; each partition whole before the next
// (a consumer far ahead on partition 0); and the partitions in reverse
// order. The warehouse ends the same: what is late on a partition depends
// on its own order, and windows wait for every partition.
func TestPartitionInterleavingDoesNotMatter(t *testing.T) {
	ctx := context.Background()
	cfg := sim.Config{Seed: 11, Rate: 0.2, MaxEvents: 1500, DuplicatePct: 3, LatePct: 8, MalformedPct: 2, Format: sim.FormatJSON,
		Start: time.Date(2024, 2, 3, 8, 0, 0, 0, time.UTC)}
	plain, _ := simMessages(t, cfg)
	msgs := partitioned(plain, 3)
	var catalog, rest []pipeline.Message // the catalog first, as the end-to-end tests produce it
	for _, m := range msgs {
		if m.Topic == "movies_catalog_enriched" || m.Topic == "users" {
			catalog = append(catalog, m)
		} else {
			rest = append(rest, m)
		}
	}
	byPartition := func(order []int32) []pipeline.Message {
		out := append([]pipeline.Message(nil), catalog...)
		for _, p := range order {
			for _, m := range rest {
				if m.Partition == p {
					out = append(out, m)
				}
			}
		}
		return out
	}
	run := func(delivered []pipeline.Message) map[string][]string {
		r := newRig(t, stream.Config{IdleTimeout: -1, Partitions: 3})
		for _, b := range batches(delivered, 100) {
			if _, err := r.p.Process(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		out := dumpWarehouse(t, r.wh)
		// Not compared: the manifests, one row per topic and batch (the
		// batches differ), and DIM_EVENT, whose rows are first seen.
		delete(out, "PULSE_MANIFESTS")
		delete(out, "DIM_EVENT")
		// Sums of floats in another order differ in the last bits.
		for table, rows := range out {
			for i, row := range rows {
				out[table][i] = floatDigits.ReplaceAllStringFunc(row, func(f string) string {
					v, _ := strconv.ParseFloat(f, 64)
					return strconv.FormatFloat(v, 'g', 12, 64)
				})
			}
			sort.Strings(out[table])
		}
		// A late event's session window is the session it would have
		// joined, as wide as the events the engine had when it came: with
		// several partitions, another partition's events may have widened
		// it (or merged two into one) by then. The late events are the
		// same, with their time and watermark: compared without the
		// session's bounds.
		_, late, err := r.wh.Query(ctx, `SELECT DISTINCT DATASET, WINDOW_TYPE, CASE WHEN WINDOW_TYPE = 'session' THEN NULL ELSE WINDOW_START END,
			CASE WHEN WINDOW_TYPE = 'session' THEN NULL ELSE WINDOW_END END, EVENT_TIME, WATERMARK, ORIGIN FROM PULSE_LATE_EVENTS`)
		if err != nil {
			t.Fatal(err)
		}
		out["PULSE_LATE_EVENTS"] = nil
		for _, row := range late {
			out["PULSE_LATE_EVENTS"] = append(out["PULSE_LATE_EVENTS"], fmt.Sprint(row...))
		}
		sort.Strings(out["PULSE_LATE_EVENTS"])
		return out
	}
	want := run(append(append([]pipeline.Message(nil), catalog...), rest...))
	if n := len(want["PULSE_LATE_EVENTS"]); n == 0 {
		t.Fatal("no late events: the test would prove little")
	}
	for name, order := range map[string][]int32{"partition by partition": {0, 1, 2}, "reversed": {2, 1, 0}} {
		got := byPartition(order)
		g := run(got)
		diffMaps(t, name, joinRows(g), joinRows(want))
	}
}
