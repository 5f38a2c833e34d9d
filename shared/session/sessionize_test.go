package session_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/session"
)

func at(d, h, m, s int) time.Time { return time.Date(2024, 3, d, h, m, s, 0, time.UTC) }

func act(user string, t time.Time, action string) session.Activity {
	return session.Activity{UserID: user, Time: t, Action: action, Duration: 10 * time.Second}
}

func fmtSessions(ss []session.Session) []string {
	var out []string
	for _, s := range ss {
		to := ""
		if s.TimedOut {
			to = " timed-out"
		}
		out = append(out, fmt.Sprintf("%s %s..%s %gs n=%d%s", s.UserID, s.Start.Format("02T15:04:05"),
			s.End.Format("02T15:04:05"), s.DurationSeconds, s.Actions, to))
	}
	return out
}

func TestSessionize(t *testing.T) {
	tests := []struct {
		name string
		in   []session.Activity
		want []string
	}{
		{"empty", nil, nil},
		{"single event lasts 0 s", []session.Activity{act("u1", at(1, 9, 0, 0), "page_view")},
			[]string{"u1 01T09:00:00..01T09:00:00 0s n=1"}},
		{"gap just under 30 min keeps the session",
			[]session.Activity{act("u1", at(1, 9, 0, 0), "page_view"), act("u1", at(1, 9, 29, 59), "edit")},
			[]string{"u1 01T09:00:00..01T09:29:59 1799s n=2"}},
		{"gap of exactly 30 min starts a new session",
			[]session.Activity{act("u1", at(1, 9, 0, 0), "page_view"), act("u1", at(1, 9, 30, 0), "edit")},
			[]string{"u1 01T09:00:00..01T09:00:00 0s n=1", "u1 01T09:30:00..01T09:30:00 0s n=1"}},
		{"midnight split even within the gap",
			[]session.Activity{act("u1", at(1, 23, 50, 0), "edit"), act("u1", at(1, 23, 59, 59), "share"), act("u1", at(2, 0, 5, 0), "edit")},
			[]string{"u1 01T23:50:00..01T23:59:59 599s n=2", "u1 02T00:05:00..02T00:05:00 0s n=1"}},
		{"midnight is UTC whatever the input zone",
			[]session.Activity{act("u1", at(1, 16, 50, 0).In(time.FixedZone("WIB", 7*3600)), "edit"), act("u1", at(1, 17, 10, 0), "edit")},
			[]string{"u1 01T16:50:00..01T17:10:00 1200s n=2"}},
		{"unsorted input, several users",
			[]session.Activity{
				act("u2", at(1, 10, 40, 0), "delete"),
				act("u1", at(1, 9, 20, 0), "edit"),
				act("u2", at(1, 10, 0, 0), "create"),
				act("u1", at(1, 9, 0, 0), "page_view"),
				act("u1", at(1, 11, 0, 0), "share"),
				act("u2", at(1, 10, 10, 0), "edit"),
			},
			[]string{
				"u1 01T09:00:00..01T09:20:00 1200s n=2",
				"u1 01T11:00:00..01T11:00:00 0s n=1",
				"u2 01T10:00:00..01T10:10:00 600s n=2",
				"u2 01T10:40:00..01T10:40:00 0s n=1",
			}},
		{"same timestamp twice counts both actions",
			[]session.Activity{act("u1", at(1, 9, 0, 0), "edit"), act("u1", at(1, 9, 0, 0), "share")},
			[]string{"u1 01T09:00:00..01T09:00:00 0s n=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]session.Activity(nil), tc.in...)
			got := session.Sessionize(tc.in)
			if f := fmtSessions(got); !reflect.DeepEqual(f, tc.want) {
				t.Fatalf("Sessionize:\n got %q\nwant %q", f, tc.want)
			}
			if !reflect.DeepEqual(in, tc.in) {
				t.Fatal("Sessionize modified its input")
			}
			for _, s := range got {
				if s.ActionSeconds != float64(10*s.Actions) {
					t.Fatalf("ActionSeconds = %g for %d actions", s.ActionSeconds, s.Actions)
				}
				if s.ID != s.UserID+"|"+s.Start.Format(time.RFC3339Nano) {
					t.Fatalf("ID = %q", s.ID)
				}
			}
		})
	}
}

func TestSessionizeWithRules(t *testing.T) {
	in := []session.Activity{act("u", at(1, 23, 55, 0), "edit"), act("u", at(2, 0, 1, 0), "edit"), act("u", at(2, 0, 12, 0), "edit")}
	got := fmtSessions(session.SessionizeWith(in, session.Rules{Gap: 10 * time.Minute}))
	want := []string{"u 01T23:55:00..02T00:01:00 360s n=2", "u 02T00:12:00..02T00:12:00 0s n=1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
