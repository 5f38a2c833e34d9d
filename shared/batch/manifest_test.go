package batch_test

import (
	"encoding/json"
	"testing"

	"github.com/pulse-analytics/pulse/shared/port"
)

// TestCountsLateIsPartOfLoaded: received = loaded + rejected + duplicate;
// late counts loaded records, so adding it again unbalances the counts.
func TestCountsLateIsPartOfLoaded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        port.Counts
		balanced bool
		text     string
	}{
		{"batch file", port.Counts{Received: 6, Loaded: 2, Rejected: 4}, true,
			"received 6 = loaded 2 + rejected 4 + duplicate 0"},
		{"stream batch with late records", port.Counts{Received: 5, Loaded: 3, Rejected: 1, Duplicate: 1, Late: 2}, true,
			"received 5 = loaded 3 (2 late) + rejected 1 + duplicate 1"},
		{"every loaded record late", port.Counts{Received: 2, Loaded: 2, Late: 2}, true,
			"received 2 = loaded 2 (2 late) + rejected 0 + duplicate 0"},
		{"late added on top of loaded (the old rule)", port.Counts{Received: 5, Loaded: 2, Rejected: 1, Duplicate: 1, Late: 1}, false,
			"received 5 = loaded 2 (1 late) + rejected 1 + duplicate 1"},
		{"more late than loaded", port.Counts{Received: 3, Loaded: 1, Rejected: 2, Late: 2}, false,
			"received 3 = loaded 1 (2 late) + rejected 2 + duplicate 0"},
		{"a record missing", port.Counts{Received: 4, Loaded: 2, Rejected: 1}, false,
			"received 4 = loaded 2 + rejected 1 + duplicate 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Balanced(); got != tc.balanced {
				t.Errorf("%+v: balanced %v, want %v", tc.c, got, tc.balanced)
			}
			if got := tc.c.String(); got != tc.text {
				t.Errorf("String() = %q, want %q", got, tc.text)
			}
		})
	}
	// The manifest JSON keeps the late field (of the loaded).
	b, err := json.Marshal(port.Counts{Received: 5, Loaded: 3, Rejected: 1, Duplicate: 1, Late: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"received":5,"loaded":3,"rejected":1,"duplicate":1,"late":2}`; string(b) != want {
		t.Errorf("manifest counts JSON %s, want %s", b, want)
	}
}
