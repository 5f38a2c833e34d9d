package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func collect(t *testing.T, cfg Config) []Event {
	t.Helper()
	g := NewGenerator(cfg)
	var out []Event
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, ev)
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatAvro, FormatMixed} {
		t.Run(format, func(t *testing.T) {
			cfg := Config{Seed: 42, Rate: 50, MaxEvents: 3000, DuplicatePct: 3, LatePct: 4, MalformedPct: 2, Format: format, Start: t0}
			a, b := collect(t, cfg), collect(t, cfg)
			if len(a) != 3000 || len(b) != 3000 {
				t.Fatalf("lengths %d %d", len(a), len(b))
			}
			for i := range a {
				if a[i].Topic != b[i].Topic || !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) ||
					a[i].Kind != b[i].Kind || !a[i].EventTime.Equal(b[i].EventTime) {
					t.Fatalf("event %d differs: %+v vs %+v", i, a[i], b[i])
				}
			}
			cfg.Seed = 43
			c := collect(t, cfg)
			same := 0
			for i := range c {
				if bytes.Equal(a[i].Value, c[i].Value) {
					same++
				}
			}
			if same > 100 {
				t.Fatalf("seed 43 repeats %d values of seed 42", same)
			}
		})
	}
}

func TestStopConditions(t *testing.T) {
	evs := collect(t, Config{Seed: 1, Rate: 10, Duration: 30 * time.Second, Start: t0})
	if len(evs) != 300 {
		t.Fatalf("Duration 30s at 10/s gave %d events, want 300", len(evs))
	}
	if got := evs[299].EventTime; !got.Equal(t0.Add(29900 * time.Millisecond)) {
		t.Fatalf("last event time %v", got)
	}
	g := NewGenerator(Config{Format: "xml"})
	if _, ok := g.Next(); ok || g.Err() == nil {
		t.Fatal("want an error for format xml")
	}
}

// TestStatefulInvariants replays 10k events (normal, late and duplicates,
// in emission order) and checks the seed 003 and 004 state rules.
func TestStatefulInvariants(t *testing.T) {
	evs := collect(t, Config{Seed: 7, Rate: 100, MaxEvents: 10000, DuplicatePct: 2, LatePct: 3, MalformedPct: 2, Start: t0})
	registered := map[int]bool{}
	signedIn := map[int]bool{}
	carts := map[string]int{} // cart -> owner
	checkedOut := map[string]bool{}
	items := map[string]bool{}
	for _, m := range Movies() {
		items[m.ItemID] = true
	}
	webUsers := map[int]bool{}
	sessions := map[string]int{}
	counts := map[string]int{}
	// Late events arrive out of order but were generated in order: the
	// rules hold in event-time order, which is generation order.
	outOfOrder := 0
	var latest time.Time
	for _, ev := range evs {
		if ev.Kind == KindLate && ev.EventTime.Before(latest) {
			outOfOrder++
		}
		if ev.Kind == KindNormal && ev.EventTime.After(latest) {
			latest = ev.EventTime
		}
	}
	if outOfOrder == 0 {
		t.Fatal("no late event arrived after a later one")
	}
	var ordered []Event
	for i, ev := range evs {
		if ev.Kind == KindMalformed {
			if ev.Record != nil || json.Valid(ev.Value) {
				t.Fatalf("event %d: malformed event with record or valid JSON %q", i, ev.Value)
			}
			continue
		}
		if ev.Kind != KindDuplicate { // a duplicate is a verbatim copy of an event checked once
			ordered = append(ordered, ev)
		}
	}
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].EventTime.Before(ordered[j].EventTime) })
	for i, ev := range ordered {
		var rec map[string]any
		if err := json.Unmarshal(ev.Value, &rec); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		counts[ev.Topic]++
		uid := func() int { return int(rec["user_id"].(float64)) }
		switch ev.Topic {
		case events.TopicConsumerRegistration:
			if registered[uid()] {
				t.Fatalf("event %d: user %d registered twice", i, uid())
			}
			if u := uid(); u < 1 || u > 1_000_000 {
				t.Fatalf("user id %d", u)
			}
			if a := rec["age"].(float64); a < 18 || a > 95 {
				t.Fatalf("age %v", a)
			}
			registered[uid()] = true
		case events.TopicSignIn:
			if !registered[uid()] || signedIn[uid()] {
				t.Fatalf("event %d: sign-in of user %d (registered %v, signed in %v)", i, uid(), registered[uid()], signedIn[uid()])
			}
			signedIn[uid()] = true
		case events.TopicSignOut:
			if !signedIn[uid()] {
				t.Fatalf("event %d: sign-out of user %d not signed in", i, uid())
			}
			delete(signedIn, uid())
		case events.TopicItemView:
			if !registered[uid()] || !items[rec["item_id"].(string)] {
				t.Fatalf("event %d: item view %v", i, rec)
			}
		case events.TopicAddedToCart:
			id := rec["cart_id"].(string)
			if !registered[uid()] || !items[rec["item_id"].(string)] || checkedOut[id] {
				t.Fatalf("event %d: add to cart %v", i, rec)
			}
			if owner, ok := carts[id]; ok && owner != uid() {
				t.Fatalf("event %d: cart %s of %d used by %d", i, id, owner, uid())
			}
			carts[id] = uid()
		case events.TopicCheckoutToCart:
			id := rec["cart_id"].(string)
			owner, ok := carts[id]
			if !ok || checkedOut[id] || owner != uid() {
				t.Fatalf("event %d: checkout of cart %s (known %v, done %v)", i, id, ok, checkedOut[id])
			}
			if pm := rec["payment_method"]; pm != "Cash" && pm != "Card" {
				t.Fatalf("payment method %v", pm)
			}
			checkedOut[id] = true
		case events.TopicUsers:
			webUsers[uid()] = true
		case events.TopicUserSessions:
			if !webUsers[uid()] {
				t.Fatalf("event %d: session of unknown user %d", i, uid())
			}
			sessions[rec["session_id"].(string)] = uid()
		case events.TopicPageviews:
			owner, ok := sessions[rec["session_id"].(string)]
			if !ok || owner != uid() {
				t.Fatalf("event %d: page view of unknown session %v", i, rec)
			}
		}
	}
	for _, topic := range events.Topics() {
		if counts[topic] == 0 {
			t.Errorf("no events on %s", topic)
		}
	}
	if len(checkedOut) < 100 || len(registered) < 300 {
		t.Fatalf("too little activity: %d checkouts, %d registrations (%v)", len(checkedOut), len(registered), counts)
	}
}

func TestPercentages(t *testing.T) {
	const n = 20000
	cfg := Config{Seed: 99, Rate: 100, MaxEvents: n, DuplicatePct: 5, LatePct: 10, MalformedPct: 2.5, Start: t0}
	g := NewGenerator(cfg)
	seen := map[string]bool{}
	for {
		clock := g.Clock()
		ev, ok := g.Next()
		if !ok {
			break
		}
		k := ev.Topic + "\x00" + string(ev.Key) + "\x00" + string(ev.Value)
		switch ev.Kind {
		case KindDuplicate:
			if !seen[k] {
				t.Fatal("duplicate of an event never sent")
			}
		case KindLate:
			lag := clock.Sub(ev.EventTime)
			if lag > 20*time.Minute+time.Second || lag < 6*time.Minute && !g.done(clock) {
				t.Fatalf("late event lag %v", lag)
			}
		case KindNormal:
			at := g.cfg.Start.Add(time.Duration(math.Round(float64(g.n-1) * 1e9 / g.cfg.Rate)))
			if !ev.EventTime.Equal(at) {
				t.Fatalf("normal event time %v, generated at %v", ev.EventTime, at)
			}
		}
		seen[k] = true
	}
	s := g.Stats()
	if s.Events != n {
		t.Fatalf("events %d", s.Events)
	}
	for kind, want := range map[Kind]float64{KindDuplicate: 5, KindLate: 10, KindMalformed: 2.5} {
		got := 100 * float64(s.ByKind[kind]) / n
		if math.Abs(got-want) > 0.5 {
			t.Errorf("%s: %.2f%%, want %.1f%% +- 0.5", kind, got, want)
		}
	}
}

func TestMoviesTxt(t *testing.T) {
	ms := Movies()
	if len(ms) != 50 {
		t.Fatalf("%d movies", len(ms))
	}
	txt := string(MoviesTxt())
	lines := bytes.Split(bytes.TrimSuffix([]byte(txt), []byte("\n")), []byte("\n"))
	if len(lines) != 51 || string(lines[0]) != "item_id\ttitle\tgenre\tListPrice" {
		t.Fatalf("header %q, %d lines", lines[0], len(lines))
	}
	tests := []struct {
		i     int
		raw   string
		price float64
	}{
		{0, "499USD$4.99", 4.99},
		{1, "$39.99", 39.99},
		{2, "USD 28.50", 28.5},
	}
	for _, tc := range tests {
		if ms[tc.i].ListPrice != tc.raw || ms[tc.i].Price != tc.price {
			t.Errorf("movie %d: %q %v, want %q %v", tc.i, ms[tc.i].ListPrice, ms[tc.i].Price, tc.raw, tc.price)
		}
	}
	ids := map[string]bool{}
	for _, m := range ms {
		if ids[m.ItemID] || m.Price < 4.5 || m.Price > 50 {
			t.Errorf("movie %+v", m)
		}
		ids[m.ItemID] = true
	}
}

// TestCatalogFirst: the movie catalog is published before any activity, so
// every checkout can be priced.
func TestCatalogFirst(t *testing.T) {
	g := NewGenerator(Config{Seed: 5, MaxEvents: 200, MalformedPct: 50, DuplicatePct: 20, LatePct: 20, Start: t0})
	for i, m := range Movies() {
		ev, ok := g.Next()
		if !ok || ev.Topic != events.TopicMoviesCatalog || ev.Kind != KindNormal || string(ev.Key) != m.ItemID {
			t.Fatalf("event %d = %s %s %q; want the catalog entry %s", i, ev.Topic, ev.Kind, ev.Key, m.ItemID)
		}
	}
}

// TestMixedFormat: seed 003 topics in Confluent Avro, the rest in JSON.
func TestMixedFormat(t *testing.T) {
	evs := collect(t, Config{Seed: 4, Rate: 50, MaxEvents: 2000, Format: FormatMixed, Start: t0})
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Kind == KindMalformed {
			continue
		}
		avro := ev.Value[0] == 0
		if avro != AvroTopics[ev.Topic] {
			t.Fatalf("%s: Avro framing %v, want %v", ev.Topic, avro, AvroTopics[ev.Topic])
		}
		if !avro && !json.Valid(ev.Value) {
			t.Fatalf("%s: not JSON: %q", ev.Topic, ev.Value)
		}
		seen[fmt.Sprint(avro)] = true
	}
	if !seen["true"] || !seen["false"] {
		t.Fatalf("formats seen %v", seen)
	}
}
