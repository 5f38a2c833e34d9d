package window_test

import (
	"fmt"
	"time"

	"github.com/pulse-analytics/pulse/shared/window"
)

func Example() {
	e, err := window.New(window.Config{
		Assigners: []window.Assigner{window.Tumbling(time.Hour).Named("tumbling")},
		Aggregate: window.DistinctCount(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := func(h, m int) time.Time { return time.Date(2024, 2, 3, h, m, 0, 0, time.UTC) }
	event := func(h, m int, offset int64, user string) window.Event {
		return window.Event{Key: "registrations", Time: at(h, m), Distinct: user,
			Origin: window.Origin{Partition: "consumer_registration/0", Offset: offset}}
	}
	show := func(out window.Output) {
		for _, r := range out.Results {
			fmt.Printf("%s %s %s distinct=%d final=%v\n", r.Assigner, r.Key, r.Window, r.Value.Distinct, r.Final)
		}
		for _, l := range out.Late {
			fmt.Printf("late %s missed %s\n", l.Event.Time.Format("15:04"), l.Missed[0].Window)
		}
	}
	batch := []window.Event{event(10, 5, 1, "u1"), event(10, 59, 2, "u2"), event(11, 4, 3, "u1")}
	show(e.Apply(at(11, 4), batch))
	show(e.Apply(at(11, 4), batch)) // redelivered: nothing changes
	show(e.Apply(at(11, 5), []window.Event{event(11, 5, 4, "u3")}))
	show(e.Apply(at(11, 6), []window.Event{event(10, 58, 5, "u4")}))
	// Output:
	// tumbling registrations [2024-02-03T10:00:00Z, 2024-02-03T11:00:00Z) distinct=2 final=true
	// late 10:58 missed [2024-02-03T10:00:00Z, 2024-02-03T11:00:00Z)
}
