package session_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/session"
	"github.com/pulse-analytics/pulse/shared/window"
)

// BenchmarkSessionize measures activities/s through Sessionize on an
// unsorted day of 100 000 activities from 2 000 users.
func BenchmarkSessionize(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	acts := make([]session.Activity, 100000)
	for i := range acts {
		acts[i] = session.Activity{UserID: fmt.Sprintf("user%d", r.Intn(2000)),
			Time: at(1, 0, 0, 0).Add(time.Duration(r.Int63n(int64(24 * time.Hour)))), Action: "edit", Duration: time.Second}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		session.Sessionize(acts)
		n += len(acts)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "activities/s")
}

// BenchmarkTracker measures events/s through a Tracker: 10 000 users
// signing in and out over time, in batches of 500, with metrics per minute.
func BenchmarkTracker(b *testing.B) {
	tr := newTracker(b, session.Config{})
	users := make([]string, 10000)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
	}
	evs := make([]session.Event, 500)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		for i := range evs {
			k := n + i
			kind := session.SignIn
			if (k/len(users))%2 == 1 {
				kind = session.SignOut
			}
			evs[i] = session.Event{Kind: kind, UserID: users[k%len(users)], Time: at(1, 0, 0, 0).Add(time.Duration(k) * 100 * time.Millisecond),
				Origin: window.Origin{Partition: "sessions/0", Offset: int64(k)}}
		}
		tr.Apply(evs)
		n += len(evs)
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
