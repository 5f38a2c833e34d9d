package session_test

import (
	"fmt"
	"time"

	"github.com/pulse-analytics/pulse/shared/session"
)

func ExampleTracker() {
	tr, err := session.NewTracker(session.Config{}) // 30 min timeout, metrics every minute
	if err != nil {
		fmt.Println(err)
		return
	}
	t := func(h, m, s int) time.Time { return time.Date(2024, 3, 1, h, m, s, 0, time.UTC) }
	show := func(o session.Output) {
		for _, m := range o.Metrics {
			if m.Timestamp.Minute()%10 == 1 { // print a few
				fmt.Printf("%s active_sessions_count=%d average_session_duration=%gs\n",
					m.Timestamp.Format("15:04"), m.ActiveSessions, m.AvgSessionDurationSeconds)
			}
		}
		for _, s := range o.Ended {
			fmt.Printf("ended %s %gs timed_out=%v\n", s.UserID, s.DurationSeconds, s.TimedOut)
		}
	}
	show(tr.SignIn("u1", t(10, 0, 0)))
	show(tr.SignIn("u2", t(10, 0, 30)))
	show(tr.SignOut("u1", t(10, 10, 0)))
	show(tr.Advance(t(10, 31, 30))) // the rows of the minutes before 10:31:30

	// Output:
	// 10:01 active_sessions_count=2 average_session_duration=0s
	// ended u1 600s timed_out=false
	// 10:11 active_sessions_count=1 average_session_duration=600s
	// 10:21 active_sessions_count=1 average_session_duration=600s
	// 10:31 active_sessions_count=0 average_session_duration=600s
	// ended u2 1800s timed_out=true
}

func ExampleSessionize() {
	t := func(d, h, m int) time.Time { return time.Date(2024, 3, d, h, m, 0, 0, time.UTC) }
	for _, s := range session.Sessionize([]session.Activity{
		{UserID: "u1", Time: t(1, 9, 50), Action: "edit"},
		{UserID: "u1", Time: t(1, 9, 0), Action: "page_view"},
		{UserID: "u1", Time: t(1, 9, 20), Action: "create"},
		{UserID: "u1", Time: t(1, 23, 50), Action: "share"},
		{UserID: "u1", Time: t(2, 0, 5), Action: "edit"},
	}) {
		fmt.Printf("%s %s..%s %gs actions=%d\n", s.UserID, s.Start.Format("02 15:04"), s.End.Format("02 15:04"), s.DurationSeconds, s.Actions)
	}
	// Output:
	// u1 01 09:00..01 09:20 1200s actions=2
	// u1 01 09:50..01 09:50 0s actions=1
	// u1 01 23:50..01 23:50 0s actions=1
	// u1 02 00:05..02 00:05 0s actions=1
}
