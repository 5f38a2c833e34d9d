package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestStreamDataTestsWithLateRegistrations runs a demo-like stream (every
// topic, the seed 003 ones in Avro through the schema registry, with
// duplicates, late and malformed messages) in which the registrations of
// the first 20 minutes reach Kafka last, after those of almost two hours
// later (a registration service's backlog): by then every window of
// theirs has closed, while their users' sign-ins, views and carts came
// on time. A late registration is still a registration: its user is in
// CONSUMER_USERS, so the stream data tests, the seed's "every user_id in
// consumer events exists in users" among them, pass; the manifests count
// each of those registrations as loaded, of which late.
func TestStreamDataTestsWithLateRegistrations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st := startStack(t, stack.Options{})
	ss, err := st.StartStream(ctx, stack.StreamOptions{BatchSize: 300, BatchWindow: 20 * time.Millisecond, TickEvery: -1,
		Config: stream.Config{IdleTimeout: -1}, Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 2, 5, 9, 0, 0, 0, time.UTC)
	msgs := generateStream(ctx, t, ss, sim.Config{Seed: 41, Rate: 0.3, MaxEvents: 2000, DuplicatePct: 2, LatePct: 2, MalformedPct: 1,
		Format: sim.FormatMixed, Start: start})

	// The backlog: registrations (and their duplicates) of the first 20
	// minutes go last, in their order. The last window of such a
	// registration (the sliding hour from its quarter hour) ends by start +
	// 1h15; the registrations sent before them reach past that plus the
	// 5-minute lateness.
	backlogUntil := start.Add(20 * time.Minute)
	var onTime, backlog []produced
	backlogUsers := map[string]bool{}
	var lastOnTime time.Time
	for _, m := range msgs {
		if m.topic != "consumer_registration" || m.ev.Kind == sim.KindMalformed {
			onTime = append(onTime, m)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m.ev.Record["timestamp"]))
		if err != nil {
			t.Fatalf("registration %d: %v", m.offset, err)
		}
		if ts.Before(backlogUntil) {
			backlog = append(backlog, m)
			backlogUsers[fmt.Sprint(m.ev.Record["user_id"])] = true
			continue
		}
		onTime = append(onTime, m)
		if ts.After(lastOnTime) {
			lastOnTime = ts
		}
	}
	if len(backlogUsers) < 10 || lastOnTime.Before(start.Add(75*time.Minute+5*time.Minute)) {
		t.Fatalf("%d backlogged registrations, the last on-time one at %s: the stream does not make them wholly late", len(backlogUsers), lastOnTime)
	}
	produceMsgs(ctx, t, ss, onTime)
	if err := ss.WaitCommitted(ctx, int64(len(onTime))); err != nil {
		t.Fatal(err)
	}
	produceMsgs(ctx, t, ss, backlog)
	if err := ss.WaitCommitted(ctx, int64(len(msgs))); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Each backlogged registration is loaded, and late (it missed all 5 of
	// its windows: the tumbling hour and 4 sliding ones).
	c := ss.Counts()["consumer_registration"]
	if c.Late != int64(len(backlogUsers)) || !c.Balanced() {
		t.Errorf("consumer_registration: %s; want %d late among the loaded", c, len(backlogUsers))
	}
	if n := count(t, st, "SELECT COUNT(DISTINCT ORIGIN) FROM PULSE_LATE_EVENTS WHERE DATASET = 'consumer_registration' AND WINDOW_TYPE = 'tumbling'"); n != int64(len(backlogUsers)) {
		t.Errorf("%d registrations late for their tumbling hour; want %d", n, len(backlogUsers))
	}
	var ids []string
	for u := range backlogUsers {
		ids = append(ids, u)
	}
	if n := count(t, st, "SELECT COUNT(*) FROM CONSUMER_USERS WHERE USER_ID IN ("+strings.Join(ids, ", ")+")"); n != int64(len(ids)) {
		t.Errorf("CONSUMER_USERS holds %d of the %d users whose registration was late", n, len(ids))
	}

	results, err := datatest.Run(ctx, st.Warehouse, datatest.Group("stream"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rel := 0
	for _, r := range results {
		if r.Test.Kind == datatest.Relationships && r.Test.To == "CONSUMER_USERS" {
			rel++
		}
		if r.Failures != 0 {
			t.Errorf("data test %s", r)
		}
	}
	if rel != 3 {
		t.Errorf("%d relationships tests to CONSUMER_USERS ran; want 3 (consumer events, item views, cart events)", rel)
	}
}
