package stream_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/stream"
)

func msg(topic string, offset int64, value string) port.Message {
	return port.Message{Topic: topic, Offset: offset, Value: []byte(value), Timestamp: 1706981300000}
}

// TestSocialSalesBatch runs seed 001 records (two from the seed, a zero
// Visitors, a malformed one, a duplicate, a poison base64 one and an
// unknown topic) and checks every count and the rates.
func TestSocialSalesBatch(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	msgs := []port.Message{
		msg("nonsense", 0, `{"a":1}`),
		msg("social_sales", 0, `{"ID": "352ed520-03fb-4933-9d2f-38019883650d", "Kota": "Bekasi", "Sosial_Media": "Instagram", "Usage_Count": 849, "Sales": 68, "Visitors": 835, "PageVisitors": 161, "Conversion": 364, "Ts": 1706981205}`),
		msg("social_sales", 1, `{"ID": "58ff840c-91e2-4c86-ae46-33ba4a796262", "Kota": "Depok", "Sosial_Media": "X", "Usage_Count": 351, "Sales": 61, "Visitors": 525, "PageVisitors": 205, "Conversion": 254, "Ts": 1706981264}`),
		msg("social_sales", 2, `{"ID": "zero", "Kota": "Bogor", "Sosial_Media": "X", "Usage_Count": 1, "Sales": 1, "Visitors": 0, "PageVisitors": 0, "Conversion": 0, "Ts": 1706981264}`),
		msg("social_sales", 3, `{"ID": "cut", "Kota": "Bo`),
		msg("social_sales", 4, `{"ID": "352ed520-03fb-4933-9d2f-38019883650d", "Kota": "Bekasi", "Sosial_Media": "Instagram", "Usage_Count": 849, "Sales": 68, "Visitors": 835, "PageVisitors": 161, "Conversion": 364, "Ts": 1706981205}`),
		{Topic: "social_sales", Offset: 5, Value: []byte("!!"), Err: &record.RecordError{Pos: 5, Field: "value", Reason: "decoding base64: illegal base64 data at input byte 0"}},
	}
	res, err := r.p.Process(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Topics["social_sales"].Counts
	want := port.Counts{Received: 6, Loaded: 2, Rejected: 3, Duplicate: 1}
	if got != want {
		t.Fatalf("social_sales counts %s; want %s", got, want)
	}
	if u := res.Topics["nonsense"].Counts; u != (port.Counts{Received: 1, Rejected: 1}) {
		t.Fatalf("unknown topic counts %s", u)
	}
	_, rows, err := r.wh.Query(ctx, "SELECT RECORD_ID, CITY, PLATFORM, CONVERSION_RATE, BOUNCE_RATE FROM FACT_SOCIAL_SALES ORDER BY RECORD_ID")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][1] != "Bekasi" || rows[1][2] != "X" ||
		math.Abs(rows[0][3].(float64)-43.59281437125748) > 1e-12 || math.Abs(rows[1][4].(float64)-39.04761904761905) > 1e-12 {
		t.Fatalf("facts = %v", rows)
	}
	_, rows, err = r.wh.Query(ctx, "SELECT DATASET, ROW_POS, FIELD, REASON FROM PULSE_REJECTS ORDER BY DATASET, ROW_POS")
	if err != nil {
		t.Fatal(err)
	}
	wantRejects := "[[nonsense 0 topic no dataset named \"nonsense\" (stream datasets: added_to_cart, checkout_to_cart, consumer_registration, " +
		"item_view, live_streaming, movies_catalog_enriched, pageviews, sign_in, sign_out, social_sales, user_sessions, users, video_interactions)] " +
		"[social_sales 2 ConversionRate Visitors is 0: division by zero] [social_sales 3 value invalid JSON: unterminated string at offset 25] " +
		"[social_sales 5 value decoding base64: illegal base64 data at input byte 0]]"
	if g := fmt.Sprint(rows); g != wantRejects {
		t.Fatalf("rejects\n got %s\nwant %s", g, wantRejects)
	}
	if n := count(t, r.wh, "SELECT SUM(RECEIVED) FROM PULSE_MANIFESTS WHERE DATASET = 'social_sales' AND RECEIVED = LOADED + REJECTED + DUPLICATE AND LATE <= LOADED"); n != 6 {
		t.Fatalf("manifest received = %d, want 6", n)
	}
	// Quarantine and archive are keyed by batch: the redelivery overwrites.
	before := len(r.objects.Snapshot())
	res, err = r.p.Process(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Topics["social_sales"].Redelivered; n != 6 || res.Topics["social_sales"].Counts.Received != 0 {
		t.Fatalf("redelivery: %+v", res.Topics["social_sales"])
	}
	if after := len(r.objects.Snapshot()); after != before {
		t.Fatalf("redelivery wrote new objects: %d -> %d", before, after)
	}
	// Seed 001 per-platform rows for the 17:25 window, partial until it closes.
	_, rows, err = r.wh.Query(ctx, "SELECT PLATFORM, EVENTS, VISITORS, AVG_CONVERSION_RATE, FINAL FROM SOCIAL_PLATFORM_METRICS ORDER BY PLATFORM")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != "[[Instagram 1 835 43.59281437125748 false] [X 1 525 48.38095238095238 false]]" {
		t.Fatalf("platform metrics %v", rows)
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows, _ = r.wh.Query(ctx, "SELECT PLATFORM, FINAL, TOP_CITY_BY_USERS, TOP_CITY_USERS, TOP_CITY_BY_SALES, TOP_CITY_SALES FROM SOCIAL_PLATFORM_METRICS ORDER BY PLATFORM")
	if fmt.Sprint(rows) != "[[Instagram true Bekasi 849 Bekasi 68] [X true Depok 351 Depok 61]]" {
		t.Fatalf("final platform metrics %v", rows)
	}
}

// TestCrashAndRetry fails the stream path after each of its steps in the
// middle of a seeded stream (duplicates, late and malformed messages, all
// topics), redelivers the batch, runs the rest, and checks that warehouse,
// window state, dedupe keys and objects equal one clean run's.
func TestCrashAndRetry(t *testing.T) {
	msgs, _ := simMessages(t, sim.Config{Seed: 3, Rate: 0.5, MaxEvents: 700, DuplicatePct: 4, LatePct: 4, MalformedPct: 2,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	bs := batches(msgs, 175)
	cfg := stream.Config{IdleTimeout: -1}
	run := func(failAt string, batch int) *rig { return runCrashing(t, cfg, bs, failAt, batch) }
	clean := run("", -1)
	wantWH, wantState, wantClaims, wantObjects := joinRows(dumpWarehouse(t, clean.wh)), clean.state.dump(t), clean.dedupe.Claims(), clean.objects.Snapshot()
	if n := count(t, clean.wh, "SELECT COUNT(*) FROM PULSE_LATE_EVENTS"); n == 0 {
		t.Fatal("the stream has no late events: the test would prove little")
	}
	for _, step := range stream.Steps {
		t.Run(step, func(t *testing.T) {
			r := run(step, 2)
			diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, r.wh)), wantWH)
			diffMaps(t, "window state", r.state.dump(t), wantState)
			diffMaps(t, "dedupe keys", r.dedupe.Claims(), wantClaims)
			diffMaps(t, "objects", r.objects.Snapshot(), wantObjects)
		})
	}
}

// TestTickClosesIdleWindows: with no newer events, Tick closes windows
// once the clock has passed their end plus the lateness and the idle
// timeout, and releases sign-ins held back by a topic that never came.
func TestTickClosesIdleWindows(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{})
	at := func(h, m int) time.Time { return time.Date(2024, 2, 3, h, m, 0, 0, time.UTC) }
	r.now = at(10, 30)
	reg := func(off int64, user int, tm time.Time) port.Message {
		return msg("consumer_registration", off, fmt.Sprintf(`{"timestamp":%q,"event_name":"consumer_registration","user_id":%d,"age":30,"masked_email":"****@x.io","preferred_language":"eng"}`, tm.Format(time.RFC3339), user))
	}
	in := msg("sign_in", 0, `{"timestamp":"2024-02-03T10:20:00Z","event_name":"sign_in","user_id":5}`)
	if _, err := r.p.Process(ctx, []port.Message{reg(0, 1, at(10, 5)), reg(1, 2, at(10, 20)), in}); err != nil {
		t.Fatal(err)
	}
	finals := func() int64 {
		return count(t, r.wh, "SELECT COUNT(*) FROM USER_REGISTRATION_METRICS WHERE FINAL AND WINDOW_TYPE = 'tumbling'")
	}
	metrics := func() int64 { return count(t, r.wh, "SELECT COUNT(*) FROM SESSION_METRICS") }
	r.now = at(11, 4) // the watermark would be 10:59: not yet
	if _, err := r.p.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if finals() != 0 {
		t.Fatal("closed before the clock passed the window end + lateness")
	}
	r.now = at(11, 6)
	if _, err := r.p.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, r.wh, "SELECT REGISTRATION_COUNT FROM USER_REGISTRATION_METRICS WHERE FINAL AND WINDOW_TYPE = 'tumbling' AND WINDOW_START = ?", at(10, 0)); n != 2 {
		t.Fatalf("tumbling [10:00, 11:00) final count = %d, want 2", n)
	}
	// sign_out never came: after the idle timeout the sign-in is released
	// and the session metrics follow the clock (11:01 and earlier minutes).
	if metrics() == 0 {
		t.Fatal("no session metrics after the idle timeout")
	}
	if n := count(t, r.wh, "SELECT ACTIVE_SESSIONS_COUNT FROM SESSION_METRICS WHERE METRIC_TIME = ?", at(10, 30)); n != 1 {
		t.Fatalf("active sessions at 10:30 = %d, want 1", n)
	}
}

// TestSessionsIndependentOfTopicOrder consumes sign_in and sign_out in two
// different interleavings and gets the same sessions and metrics.
func TestSessionsIndependentOfTopicOrder(t *testing.T) {
	ctx := context.Background()
	msgs, _ := simMessages(t, sim.Config{Seed: 8, Rate: 0.5, MaxEvents: 1500, Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	var ins, outs []port.Message
	for _, m := range msgs {
		switch m.Topic {
		case "sign_in":
			ins = append(ins, m)
		case "sign_out":
			outs = append(outs, m)
		}
	}
	dump := func(order [][]port.Message) map[string]string {
		r := newRig(t, stream.Config{IdleTimeout: -1})
		for _, b := range order {
			if _, err := r.p.Process(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		all := dumpWarehouse(t, r.wh)
		return map[string]string{"metrics": strings.Join(all["SESSION_METRICS"], "\n"), "sessions": strings.Join(all["CONSUMER_SESSIONS"], "\n")}
	}
	// All sign-ins first, then all sign-outs; and the two topics in small alternating batches.
	a := dump([][]port.Message{ins, outs})
	var alternating [][]port.Message
	for i := 0; i < max(len(ins), len(outs)); i += 7 {
		alternating = append(alternating, outs[min(i, len(outs)):min(i+7, len(outs))], ins[min(i, len(ins)):min(i+7, len(ins))])
	}
	b := dump(alternating)
	if a["metrics"] == "" || a["sessions"] == "" {
		t.Fatal("no sessions: the test would prove little")
	}
	for k := range a {
		if a[k] != b[k] {
			t.Errorf("%s differ between consumption orders", k)
		}
	}
}

// TestLeaseMakesInvocationsExclusive runs two pipelines over the same
// stores, as two Lambda instances would: while one is inside a batch of a
// processor, the other's batch on that processor fails with ErrBusy and
// changes nothing; a lease left by a vanished holder expires.
func TestLeaseMakesInvocationsExclusive(t *testing.T) {
	ctx := context.Background()
	a := newRig(t, stream.Config{IdleTimeout: -1})
	b, err := stream.New(stream.Env{Store: a.objects, Dedupe: a.dedupe, Warehouse: a.wh, State: a.state, Decoder: avro.NewDecoder(nil),
		Buckets: buckets, Config: stream.Config{IdleTimeout: -1}, Now: func() time.Time { return a.now }})
	if err != nil {
		t.Fatal(err)
	}
	sale := func(off int64, id string) port.Message {
		return msg("social_sales", off, `{"ID":"`+id+`","Kota":"Bogor","Sosial_Media":"X","Usage_Count":1,"Sales":1,"Visitors":10,"PageVisitors":1,"Conversion":1,"Ts":1706981205}`)
	}
	var busy error
	a.fail = func(step string) error {
		if step == stream.StepApply {
			_, busy = b.Process(ctx, []port.Message{{Topic: "social_sales", Partition: 1, Offset: 0, Value: sale(0, "b").Value}})
		}
		return nil
	}
	if _, err := a.p.Process(ctx, []port.Message{sale(0, "a")}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(busy, stream.ErrBusy) {
		t.Fatalf("the concurrent batch got %v; want ErrBusy", busy)
	}
	if n := count(t, a.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 1 {
		t.Fatalf("%d facts after the busy batch; want 1", n)
	}
	a.fail = nil
	if _, err := b.Process(ctx, []port.Message{{Topic: "social_sales", Partition: 1, Offset: 0, Value: sale(0, "b").Value}}); err != nil {
		t.Fatalf("retry after the lease was released: %v", err)
	}
	// A lease its holder never gave back blocks others until it expires.
	name := "stream/lease/social_platform_metrics"
	_, v, _ := a.state.Load(ctx, name)
	until := a.now.Add(time.Minute).UnixMicro()
	if err := a.state.Save(ctx, name, []byte(fmt.Sprintf(`{"owner":"gone","until":%d}`, until)), v); err != nil {
		t.Fatal(err)
	}
	if _, err := a.p.Process(ctx, []port.Message{sale(1, "c")}); !errors.Is(err, stream.ErrBusy) {
		t.Fatalf("with a foreign lease: %v; want ErrBusy", err)
	}
	a.now = a.now.Add(2 * time.Minute)
	if _, err := a.p.Process(ctx, []port.Message{sale(1, "c")}); err != nil {
		t.Fatalf("after the lease expired: %v", err)
	}
	if n := count(t, a.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 3 {
		t.Fatalf("%d facts; want 3", n)
	}
}

// runCrashing runs the batches bs on a fresh rig with cfg, ending with a
// flush; batch number crashAt first fails once after step failAt (and must
// fail), then is redelivered whole, as Lambda would. crashAt -1: no crash.
func runCrashing(t *testing.T, cfg stream.Config, bs [][]port.Message, failAt string, crashAt int) *rig {
	t.Helper()
	ctx := context.Background()
	r := newRig(t, cfg)
	for i, b := range bs {
		if i == crashAt {
			r.fail = func(step string) error {
				if step == failAt {
					return errors.New("crash")
				}
				return nil
			}
			if _, err := r.p.Process(ctx, b); err == nil {
				t.Fatalf("no failure after %s", failAt)
			}
			r.fail = nil
		}
		if _, err := r.p.Process(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}
