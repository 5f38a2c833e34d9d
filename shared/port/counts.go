package port

import "fmt"

// Counts is the accounting of one file or batch (DESIGN.md 4.2):
// Received = Loaded + Rejected + Duplicate, every record in exactly one of
// the three. Late counts the loaded records that arrived after some
// window of theirs had closed (stream only; a batch file has no windows):
// a late record is still loaded into its fact, dimension and table
// outputs, so Late is part of Loaded, never added to it. In
// PULSE_MANIFESTS the LATE column means the same: "of which late".
type Counts struct {
	Received  int64 `json:"received"`
	Loaded    int64 `json:"loaded"`
	Rejected  int64 `json:"rejected"`
	Duplicate int64 `json:"duplicate"`
	Late      int64 `json:"late"` // of the loaded
}

// Balanced reports whether the counts add up: every received record is
// loaded, rejected or a duplicate, and the late ones are among the loaded.
func (c Counts) Balanced() bool {
	return c.Received == c.Loaded+c.Rejected+c.Duplicate && c.Late >= 0 && c.Late <= c.Loaded
}

// String is "received 5 = loaded 3 + rejected 1 + duplicate 1", with
// " (2 late)" after the loaded count when some of them were late.
func (c Counts) String() string {
	late := ""
	if c.Late != 0 {
		late = fmt.Sprintf(" (%d late)", c.Late)
	}
	return fmt.Sprintf("received %d = loaded %d%s + rejected %d + duplicate %d", c.Received, c.Loaded, late, c.Rejected, c.Duplicate)
}
