package session_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/session"
	"github.com/pulse-analytics/pulse/shared/window"
)

func in(user string, t time.Time, off int64) session.Event {
	return session.Event{Kind: session.SignIn, UserID: user, Time: t, Origin: window.Origin{Partition: "sign_in/0", Offset: off}}
}

func out(user string, t time.Time, off int64) session.Event {
	return session.Event{Kind: session.SignOut, UserID: user, Time: t, Origin: window.Origin{Partition: "sign_out/0", Offset: off}}
}

func fmtMetrics(ms []session.Metrics) []string {
	var s []string
	for _, m := range ms {
		s = append(s, fmt.Sprintf("%s active=%d avg=%g age=%g ended=%d timedout=%d orphans=%d", m.Timestamp.Format("15:04"),
			m.ActiveSessions, m.AvgSessionDurationSeconds, m.AvgActiveAgeSeconds, m.EndedSessions, m.TimedOutSessions, m.OrphanSignOuts))
	}
	return s
}

func newTracker(t testing.TB, cfg session.Config) *session.Tracker {
	t.Helper()
	tr, err := session.NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTracker(t *testing.T) {
	type step struct {
		events  []session.Event
		advance time.Time
		ended   []string
		metrics []string
		orphans int
	}
	tests := []struct {
		name  string
		cfg   session.Config
		steps []step
	}{
		{
			name: "sign in, sign out, metrics per minute",
			steps: []step{
				{events: []session.Event{in("u1", at(1, 10, 0, 0), 1), in("u2", at(1, 10, 0, 30), 2)}},
				// The 10:02 row waits for every event at 10:02: u1's sign-out at
				// 10:02 has ended u1's session by then.
				{events: []session.Event{out("u1", at(1, 10, 2, 0), 1)},
					ended:   []string{"u1 01T10:00:00..01T10:02:00 120s n=2"},
					metrics: []string{"10:01 active=2 avg=0 age=45 ended=0 timedout=0 orphans=0"}},
				{advance: at(1, 10, 3, 0),
					metrics: []string{"10:02 active=1 avg=120 age=90 ended=1 timedout=0 orphans=0"}},
				{advance: at(1, 10, 3, 1),
					metrics: []string{"10:03 active=1 avg=120 age=150 ended=1 timedout=0 orphans=0"}},
			},
		},
		{
			name: "no sign-out: timed out after 30 min, flagged, left out of the average",
			cfg:  session.Config{MetricsEvery: -1},
			steps: []step{
				{events: []session.Event{in("u1", at(1, 10, 0, 0), 1), in("u2", at(1, 10, 5, 0), 2), out("u2", at(1, 10, 15, 0), 1)},
					ended: []string{"u2 01T10:05:00..01T10:15:00 600s n=2"}},
				{events: []session.Event{in("u3", at(1, 10, 29, 59), 3)}},
				{events: []session.Event{out("u1", at(1, 10, 30, 0), 2)},
					ended: []string{"u1 01T10:00:00..01T10:30:00 1800s n=1 timed-out"}, orphans: 1},
			},
		},
		{
			name: "timeout closes at the minute boundary without new events for that user",
			cfg:  session.Config{Timeout: 2 * time.Minute},
			steps: []step{
				{events: []session.Event{in("u1", at(1, 10, 0, 30), 1)}},
				{events: []session.Event{in("u2", at(1, 10, 3, 0), 2)},
					metrics: []string{
						"10:01 active=1 avg=0 age=30 ended=0 timedout=0 orphans=0",
						"10:02 active=1 avg=0 age=90 ended=0 timedout=0 orphans=0",
					}},
				// The 10:03 row counts u2, signed in at 10:03.
				{advance: at(1, 10, 3, 30),
					ended: []string{"u1 01T10:00:30..01T10:02:30 120s n=1 timed-out"},
					metrics: []string{
						"10:03 active=1 avg=0 age=0 ended=0 timedout=1 orphans=0",
					}},
			},
		},
		{
			name: "orphan sign-out and repeated sign-in do not crash",
			cfg:  session.Config{MetricsEvery: -1},
			steps: []step{
				{events: []session.Event{out("ghost", at(1, 9, 0, 0), 1)}, orphans: 1},
				{events: []session.Event{in("u1", at(1, 9, 0, 0), 1), in("u1", at(1, 9, 5, 0), 2), out("u1", at(1, 9, 10, 0), 2)},
					ended: []string{"u1 01T09:00:00..01T09:10:00 600s n=2"}},
			},
		},
		{
			name: "in-batch order follows event time; sign-out before sign-in at the same instant",
			cfg:  session.Config{MetricsEvery: -1},
			steps: []step{
				{events: []session.Event{
					out("u1", at(1, 9, 10, 0), 1), in("u1", at(1, 9, 10, 0), 1), in("u1", at(1, 9, 0, 0), 2),
				}, ended: []string{"u1 01T09:00:00..01T09:10:00 600s n=2"}},
				{advance: at(1, 9, 40, 0), ended: []string{"u1 01T09:10:00..01T09:40:00 1800s n=1 timed-out"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, tc.cfg)
			for i, s := range tc.steps {
				var o session.Output
				if s.events != nil {
					o = tr.Apply(s.events)
				} else {
					o = tr.Advance(s.advance)
				}
				if got := fmtSessions(o.Ended); !reflect.DeepEqual(got, s.ended) {
					t.Fatalf("step %d ended:\n got %q\nwant %q", i, got, s.ended)
				}
				if got := fmtMetrics(o.Metrics); !reflect.DeepEqual(got, s.metrics) {
					t.Fatalf("step %d metrics:\n got %q\nwant %q", i, got, s.metrics)
				}
				if len(o.Orphans) != s.orphans {
					t.Fatalf("step %d orphans = %d; want %d", i, len(o.Orphans), s.orphans)
				}
			}
		})
	}
}

func TestTrackerMetricsOnDemand(t *testing.T) {
	tr := newTracker(t, session.Config{MetricsEvery: -1})
	tr.Apply([]session.Event{in("a", at(1, 10, 0, 0), 1), in("b", at(1, 10, 10, 0), 2), in("c", at(1, 10, 20, 0), 3),
		out("a", at(1, 10, 15, 0), 1), out("zzz", at(1, 10, 16, 0), 2)})
	got := fmtMetrics([]session.Metrics{tr.Metrics(at(1, 10, 20, 0)), tr.Metrics(at(1, 10, 45, 0)), tr.Metrics(at(1, 9, 0, 0))})
	want := []string{
		"10:20 active=2 avg=900 age=300 ended=1 timedout=0 orphans=1",
		"10:45 active=1 avg=900 age=1500 ended=1 timedout=0 orphans=1", // b timed out at 10:40
		"09:00 active=0 avg=900 age=0 ended=1 timedout=0 orphans=1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Metrics:\n got %q\nwant %q", got, want)
	}
}

func TestTrackerIdempotentAndRestore(t *testing.T) {
	batch1 := []session.Event{in("u1", at(1, 10, 0, 0), 1), in("u2", at(1, 10, 1, 0), 2), out("u1", at(1, 10, 4, 0), 1)}
	batch2 := []session.Event{in("u3", at(1, 10, 5, 0), 3), out("u2", at(1, 10, 6, 0), 2), out("u9", at(1, 10, 7, 0), 3)}

	tr := newTracker(t, session.Config{})
	tr.Apply(batch1)
	s1, _ := tr.Snapshot()
	if o := tr.Apply(batch1); o.Duplicates != 3 || len(o.Ended)+len(o.Metrics)+len(o.Orphans) != 0 {
		t.Fatalf("second apply = %+v", o)
	}
	if s, _ := tr.Snapshot(); !bytes.Equal(s, s1) {
		t.Fatalf("same batch twice changed the state:\n%s\n%s", s1, s)
	}

	restored := newTracker(t, session.Config{})
	if err := restored.Restore(s1); err != nil {
		t.Fatal(err)
	}
	a, b := tr.Apply(batch2), restored.Apply(batch2)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("restored tracker differs:\n%+v\n%+v", a, b)
	}
	sa, _ := tr.Snapshot()
	sb, _ := restored.Snapshot()
	if !bytes.Equal(sa, sb) {
		t.Fatal("snapshots differ after the same batch")
	}
	other := newTracker(t, session.Config{Timeout: time.Hour})
	if err := other.Restore(s1); err == nil {
		t.Fatal("restore with another timeout succeeded")
	}
	if err := other.Restore([]byte("nope")); err == nil {
		t.Fatal("restore of garbage succeeded")
	}
	if _, err := session.NewTracker(session.Config{Timeout: -time.Second}); err == nil {
		t.Fatal("negative timeout accepted")
	}
}

func TestTrackerConvenience(t *testing.T) {
	tr := newTracker(t, session.Config{MetricsEvery: -1})
	tr.SignIn("u", at(1, 8, 0, 0))
	o := tr.SignOut("u", at(1, 8, 0, 42))
	if got := fmtSessions(o.Ended); !reflect.DeepEqual(got, []string{"u 01T08:00:00..01T08:00:42 42s n=2"}) {
		t.Fatalf("got %q", got)
	}
}

// TestMetricsAtTheMinute: the row of minute M counts the sessions active
// at the instant M with every event at M applied (sign-outs before
// sign-ins at one instant): a sign-in at M is active, a sign-out at M has
// ended its session, a session timing out at M is over. The same rows
// come out however the events are split into calls, whether time moves by
// events, by Advance or by AdvanceThrough, and Metrics(M) on demand
// agrees with the row of M.
func TestMetricsAtTheMinute(t *testing.T) {
	events := []session.Event{
		in("u1", at(1, 10, 0, 30), 1),
		in("u4", at(1, 10, 1, 0), 2),  // at the minute: in the 10:01 row; times out at 10:04:00
		in("u2", at(1, 10, 2, 0), 3),  // at the minute: in the 10:02 row
		out("u1", at(1, 10, 3, 0), 1), // at the minute: not in the 10:03 row
		in("u3", at(1, 10, 3, 0), 4),  // at the minute: in the 10:03 row
		out("u3", at(1, 10, 4, 0), 2), // a 60 s session ending at the minute
	}
	// By hand, with a 3-minute timeout: 10:01 u1 (30 s old), u4 (0); 10:02
	// u1 (90), u4 (60), u2 (0); 10:03 u4 (120), u2 (60), u3 (0), u1 ended
	// after 150 s; 10:04 u2 (120), u3 ended after 60 s, u4 timed out at
	// 10:04:00.
	want := []string{
		"10:01 active=2 avg=0 age=15 ended=0 timedout=0 orphans=0",
		"10:02 active=3 avg=0 age=50 ended=0 timedout=0 orphans=0",
		"10:03 active=3 avg=150 age=60 ended=1 timedout=0 orphans=0",
		"10:04 active=1 avg=105 age=120 ended=2 timedout=1 orphans=0",
	}
	cfg := session.Config{Timeout: 3 * time.Minute}
	type run struct {
		name string
		feed func(tr *session.Tracker) []session.Metrics
	}
	runs := []run{
		{"one call, then through the last event", func(tr *session.Tracker) []session.Metrics {
			ms := tr.Apply(events).Metrics
			return append(ms, tr.AdvanceThrough(at(1, 10, 4, 0)).Metrics...)
		}},
		{"one call per event, then advance past the last minute", func(tr *session.Tracker) []session.Metrics {
			var ms []session.Metrics
			for _, e := range events {
				ms = append(ms, tr.Apply([]session.Event{e}).Metrics...)
			}
			return append(ms, tr.Advance(at(1, 10, 4, 1)).Metrics...)
		}},
		{"advance to each minute between the events", func(tr *session.Tracker) []session.Metrics {
			var ms []session.Metrics
			for _, e := range events {
				ms = append(ms, tr.Advance(e.Time).Metrics...) // events at e.Time may still come: no row for it yet
				ms = append(ms, tr.Apply([]session.Event{e}).Metrics...)
			}
			ms = append(ms, tr.Advance(at(1, 10, 4, 0)).Metrics...)
			return append(ms, tr.AdvanceThrough(at(1, 10, 4, 0)).Metrics...)
		}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			tr := newTracker(t, cfg)
			if got := fmtMetrics(r.feed(tr)); !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n got %q\nwant %q", got, want)
			}
		})
	}
	// On demand: with the events of each minute applied, Metrics(M) is the
	// row of M.
	tr := newTracker(t, session.Config{Timeout: 3 * time.Minute, MetricsEvery: -1})
	var got []session.Metrics
	for _, m := range []time.Time{at(1, 10, 1, 0), at(1, 10, 2, 0), at(1, 10, 3, 0), at(1, 10, 4, 0)} {
		var upTo []session.Event
		for _, e := range events {
			if !e.Time.After(m) && e.Time.After(m.Add(-time.Minute)) {
				upTo = append(upTo, e)
			}
		}
		tr.Apply(upTo)
		tr.AdvanceThrough(m)
		got = append(got, tr.Metrics(m))
	}
	if g := fmtMetrics(got); !reflect.DeepEqual(g, want) {
		t.Errorf("Metrics on demand:\n got %q\nwant %q", g, want)
	}
}
