package stream_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestSessionMetricsAtTheMinute: every SESSION_METRICS row follows one
// convention, whichever path emits it (a later event, the frontier of a
// batch, the flush): the row of minute M counts the sessions active at the
// instant M with the sign-ins and sign-outs at M applied. Here the batch
// frontier stops exactly at 10:03, where a sign-out and a sign-in fall.
func TestSessionMetricsAtTheMinute(t *testing.T) {
	ctx := context.Background()
	ts := func(m, s int) string { return time.Date(2024, 2, 3, 10, m, s, 0, time.UTC).Format(time.RFC3339) }
	offs := map[string]int64{}
	sign := func(topic string, user, m, s int) port.Message {
		off := offs[topic]
		offs[topic]++
		return msg(topic, off, fmt.Sprintf(`{"timestamp":%q,"event_name":%q,"user_id":%d}`, ts(m, s), topic, user))
	}
	// Lateness 5 min: after batch 1 (both topics at 10:08) the frontier is
	// 10:03, after batch 2 (10:09) 10:04.
	batch1 := []port.Message{
		sign("sign_in", 1, 0, 30), sign("sign_in", 2, 2, 0), sign("sign_out", 1, 3, 0), sign("sign_in", 3, 3, 0),
		sign("sign_out", 2, 8, 0), sign("sign_in", 9, 8, 0),
	}
	batch2 := []port.Message{sign("sign_in", 10, 9, 0), sign("sign_out", 3, 9, 0)}
	// By hand (time, active, mean sign-in to sign-out s, mean age s,
	// completed, timed out, orphans): u1 10:00:30-10:03:00 (150 s), u2
	// 10:02-10:08 (360 s), u3 10:03-10:09 (360 s), u9 from 10:08, u10 from
	// 10:09.
	want := []string{
		"10:01 1 0 30 0 0 0",
		"10:02 2 0 45 0 0 0",   // u1 90, u2 0 (signed in at 10:02)
		"10:03 2 150 30 1 0 0", // u1 signed out at 10:03; u2 60, u3 0 (signed in at 10:03)
		"10:04 2 150 90 1 0 0",
		"10:05 2 150 150 1 0 0",
		"10:06 2 150 210 1 0 0",
		"10:07 2 150 270 1 0 0",
		"10:08 2 255 150 2 0 0", // u2 signed out; u3 300, u9 0
		"10:09 2 290 30 3 0 0",  // u3 signed out; u9 60, u10 0
	}
	for _, tc := range []struct {
		name    string
		batches [][]port.Message
	}{
		{"two batches, the frontier at 10:03 then 10:04", [][]port.Message{batch1, batch2}},
		{"one batch", [][]port.Message{append(append([]port.Message(nil), batch1...), batch2...)}},
		{"one event per batch", func() [][]port.Message {
			var out [][]port.Message
			for _, m := range append(append([]port.Message(nil), batch1...), batch2...) {
				out = append(out, []port.Message{m})
			}
			return out
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, stream.Config{IdleTimeout: -1})
			for _, b := range tc.batches {
				if _, err := r.p.Process(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			_, rows, err := r.wh.Query(ctx, `SELECT strftime(METRIC_TIME, '%H:%M'), ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION,
				AVG_ACTIVE_AGE_SECONDS, COMPLETED_SESSIONS, TIMED_OUT_SESSIONS, ORPHAN_SIGN_OUTS FROM SESSION_METRICS ORDER BY METRIC_TIME`)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range rows {
				got = append(got, fmt.Sprintf("%v %v %v %v %v %v %v", row...))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("SESSION_METRICS:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestSessionTimedOutAtTheEndOfTheInput: a session whose timeout falls
// between the last whole minute and the last event is closed by the flush
// and written to CONSUMER_SESSIONS, and the end-of-input row counts it.
func TestSessionTimedOutAtTheEndOfTheInput(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	in := func(off int64, user int, tm string) port.Message {
		return msg("sign_in", off, fmt.Sprintf(`{"timestamp":%q,"event_name":"sign_in","user_id":%d}`, tm, user))
	}
	// u1 times out at 10:30:10, between 10:30 and the last event, 10:30:40.
	if _, err := r.p.Process(ctx, []port.Message{in(0, 1, "2024-02-03T10:00:10Z"), in(1, 2, "2024-02-03T10:30:40Z")}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows, err := r.wh.Query(ctx, `SELECT USER_ID, strftime(SIGN_IN_TIME, '%H:%M:%S'), strftime(SIGN_OUT_TIME, '%H:%M:%S'), TIMED_OUT FROM CONSUMER_SESSIONS`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rows); got != "[[1 10:00:10 10:30:10 true]]" {
		t.Errorf("CONSUMER_SESSIONS = %s, want u1 timed out at 10:30:10", got)
	}
	_, rows, err = r.wh.Query(ctx, `SELECT strftime(METRIC_TIME, '%H:%M:%S'), ACTIVE_SESSIONS_COUNT, TIMED_OUT_SESSIONS FROM SESSION_METRICS
		WHERE METRIC_TIME >= TIMESTAMP '2024-02-03 10:30:00' ORDER BY METRIC_TIME`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rows); got != "[[10:30:00 1 0] [10:30:40 1 1]]" {
		t.Errorf("SESSION_METRICS from 10:30 = %s, want 10:30 with u1 active, 10:30:40 with u2 active and u1 timed out", got)
	}
}
