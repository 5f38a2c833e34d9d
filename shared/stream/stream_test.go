package stream_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

func msg(topic string, offset int64, value string) pipeline.Message {
	return pipeline.Message{Topic: topic, Offset: offset, Value: []byte(value), Timestamp: 1706981300000}
}

// TestSocialSalesBatch runs seed 001 records (two from the seed, a zero
// Visitors, a malformed one, a duplicate, a poison base64 one and an
// unknown topic) and checks every count and the rates.
func TestSocialSalesBatch(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	msgs := []pipeline.Message{
		msg("nonsense", 0, `{"a":1}`),
		msg("social_sales", 0, `{"ID": "352ed520-03fb-4933-9d2f-38019883650d", "Kota": "Bekasi", "Sosial_Media": "Instagram", "Usage_Count": 849, "Sales": 68, "Visitors": 835, "PageVisitors": 161, "Conversion": 364, "Ts": 1706981205}`),
		msg("social_sales", 1, `{"ID": "58ff840c-91e2-4c86-ae46-33ba4a796262", "Kota": "Depok", "Sosial_Media": "X", "Usage_Count": 351, "Sales": 61, "Visitors": 525, "PageVisitors": 205, "Conversion": 254, "Ts": 1706981264}`),
		msg("social_sales", 2, `{"ID": "zero", "Kota": "Bogor", "Sosial_Media": "X", "Usage_Count": 1, "Sales": 1, "Visitors": 0, "PageVisitors": 0, "Conversion": 0, "Ts": 1706981264}`),
		msg("social_sales", 3, `{"ID": "cut", "Kota": "Bo`),
		msg("social_sales", 4, `{"ID": "352ed520-03fb-4933-9d2f-38019883650d", "Kota": "Bekasi", "Sosial_Media": "Instagram", "Usage_Count": 849, "Sales": 68, "Visitors": 835, "PageVisitors": 161, "Conversion": 364, "Ts": 1706981205}`),
		{Topic: "social_sales", Offset: 5, Value: []byte("!!"), Err: "value: decoding base64: illegal base64 data at input byte 0"},
	}
	res, err := r.p.Process(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Topics["social_sales"].Counts
	want := pipeline.Counts{Received: 6, Loaded: 2, Rejected: 3, Duplicate: 1}
	if got != want {
		t.Fatalf("social_sales counts %s; want %s", got, want)
	}
	if u := res.Topics["nonsense"].Counts; u != (pipeline.Counts{Received: 1, Rejected: 1}) {
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
	if n := count(t, r.wh, "SELECT SUM(RECEIVED) FROM PULSE_MANIFESTS WHERE DATASET = 'social_sales' AND RECEIVED = LOADED + REJECTED + DUPLICATE + LATE"); n != 6 {
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
	ctx := context.Background()
	msgs, _ := simMessages(t, sim.Config{Seed: 3, Rate: 0.5, MaxEvents: 700, DuplicatePct: 4, LatePct: 4, MalformedPct: 2,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	bs := batches(msgs, 175)
	cfg := stream.Config{IdleTimeout: -1}
	run := func(failAt string, batch int) *rig {
		r := newRig(t, cfg)
		for i, b := range bs {
			if i == batch {
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
