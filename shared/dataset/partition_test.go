package dataset

import (
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

// Partition remembers the last day it formatted; crossing a day boundary
// in either direction, before and after 1970, must still name the day.
func TestPartitionDays(t *testing.T) {
	c, err := Compile(AppInteractions) // partitioned by event date
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	row := c.NewRow()
	ts := c.Schema().Index("timestamp")
	for _, tt := range []struct {
		at, want string
	}{
		{"2024-02-03T23:59:59.999999Z", "event_date=2024-02-03"},
		{"2024-02-04T00:00:00Z", "event_date=2024-02-04"},
		{"2024-02-03T12:00:00Z", "event_date=2024-02-03"},
		{"1970-01-01T00:00:00Z", "event_date=1970-01-01"},
		{"1969-12-31T23:59:59.999999Z", "event_date=1969-12-31"},
		{"1969-12-31T00:00:00Z", "event_date=1969-12-31"},
		{"1969-12-30T23:59:59Z", "event_date=1969-12-30"},
	} {
		row[ts] = table.Int64(at(tt.at))
		if got := c.Partition(row); got != tt.want {
			t.Errorf("Partition at %s = %s, want %s", tt.at, got, tt.want)
		}
	}
	row[ts] = table.Null()
	if got := c.Partition(row); got != "event_date=unknown" {
		t.Errorf("Partition of a NULL event time = %s", got)
	}
}
