package window

import (
	"testing"
	"time"
)

func TestAssignerWindows(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2024, 2, 3, h, m, 0, 0, time.UTC) }
	w := func(h1, m1, h2, m2 int) Window { return Window{at(h1, m1), at(h2, m2)} }
	tests := []struct {
		name string
		a    Assigner
		t    time.Time
		want []Window
	}{
		{"tumbling inside", Tumbling(time.Hour), at(10, 30), []Window{w(10, 0, 11, 0)}},
		{"tumbling on start", Tumbling(time.Hour), at(10, 0), []Window{w(10, 0, 11, 0)}},
		{"tumbling at end belongs to next", Tumbling(time.Hour), at(11, 0).Add(-time.Nanosecond), []Window{w(10, 0, 11, 0)}},
		{"tumbling 5 minutes", Tumbling(5 * time.Minute), at(17, 27), []Window{w(17, 25, 17, 30)}},
		{"hopping 1h/15m: four windows", Hopping(time.Hour, 15*time.Minute), at(10, 20),
			[]Window{w(9, 30, 10, 30), w(9, 45, 10, 45), w(10, 0, 11, 0), w(10, 15, 11, 15)}},
		{"hopping on a bound", Hopping(time.Hour, 15*time.Minute), at(10, 15),
			[]Window{w(9, 30, 10, 30), w(9, 45, 10, 45), w(10, 0, 11, 0), w(10, 15, 11, 15)}},
		{"hopping size not a multiple of advance", Hopping(25*time.Minute, 10*time.Minute), at(10, 5),
			[]Window{w(9, 50, 10, 15), w(10, 0, 10, 25)}},
		{"hopping equal to tumbling", Hopping(time.Hour, time.Hour), at(10, 59), []Window{w(10, 0, 11, 0)}},
		{"session own window", Session(10 * time.Minute), at(10, 3), []Window{w(10, 3, 10, 13)}},
		{"tumbling before the epoch", Tumbling(time.Hour), time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC),
			[]Window{{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC()}}},
		{"tumbling day aligned to UTC midnight", Tumbling(24 * time.Hour), time.Date(2024, 2, 3, 23, 59, 0, 0, time.FixedZone("WIB", 7*3600)),
			[]Window{{time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 4, 0, 0, 0, 0, time.UTC)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.a.Windows(tc.t)
			if len(got) != len(tc.want) {
				t.Fatalf("Windows(%s) = %v; want %v", tc.t, got, tc.want)
			}
			for i := range got {
				if !got[i].Start.Equal(tc.want[i].Start) || !got[i].End.Equal(tc.want[i].End) {
					t.Fatalf("Windows(%s)[%d] = %v; want %v", tc.t, i, got[i], tc.want[i])
				}
				if !got[i].Contains(tc.t) {
					t.Fatalf("window %v does not contain %s", got[i], tc.t)
				}
			}
		})
	}
}

func TestAssignerValidate(t *testing.T) {
	tests := []struct {
		name string
		a    Assigner
		ok   bool
	}{
		{"tumbling", Tumbling(time.Minute), true},
		{"tumbling zero", Tumbling(0), false},
		{"hopping", Hopping(time.Hour, 15*time.Minute), true},
		{"hopping advance above size", Hopping(time.Minute, time.Hour), false},
		{"hopping zero advance", Hopping(time.Hour, 0), false},
		{"session negative", Session(-time.Minute), false},
		{"zero value", Assigner{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.a.validate(); (err == nil) != tc.ok {
				t.Fatalf("validate(%s) = %v; want ok=%v", tc.a, err, tc.ok)
			}
		})
	}
}

func TestAssignerOffset(t *testing.T) {
	monday := time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC) // a Monday
	week := 7 * 24 * time.Hour
	weekly := Tumbling(week).Offset(4 * 24 * time.Hour)
	for _, at := range []time.Time{monday, monday.Add(3 * 24 * time.Hour), monday.Add(week - time.Nanosecond)} {
		got := weekly.Windows(at)
		if len(got) != 1 || !got[0].Start.Equal(monday) || !got[0].End.Equal(monday.Add(week)) {
			t.Fatalf("weekly window of %s = %v; want [%s, %s)", at, got, monday, monday.Add(week))
		}
	}
	if got := weekly.Windows(monday.Add(-time.Nanosecond)); !got[0].End.Equal(monday) {
		t.Fatalf("the instant before Monday is in %v; want the week ending %s", got, monday)
	}
	// An offset of a whole advance is no offset; a negative one wraps.
	if Tumbling(time.Hour).Offset(time.Hour).String() != Tumbling(time.Hour).String() {
		t.Fatal("an offset of one size changed the assigner")
	}
	h := Hopping(time.Hour, 15*time.Minute).Offset(-5 * time.Minute)
	at := time.Date(2024, 2, 3, 10, 20, 0, 0, time.UTC)
	got := h.Windows(at)
	want := []string{"09:25", "09:40", "09:55", "10:10"}
	if len(got) != len(want) {
		t.Fatalf("hopping with offset: %v", got)
	}
	for i, w := range got {
		if w.Start.Format("15:04") != want[i] || w.End.Sub(w.Start) != time.Hour {
			t.Fatalf("hopping with offset -5m: window %d = %v; want start %s", i, w, want[i])
		}
	}
	if s := weekly.String(); s != "tumbling(168h0m0s+96h0m0s)" {
		t.Fatalf("String = %q", s)
	}
	if Session(time.Minute).Offset(time.Second) != Session(time.Minute) {
		t.Fatal("Offset changed a session assigner")
	}
}
