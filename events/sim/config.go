// Package sim is Pulse's event simulator: a seeded, stateful generator of
// realistic events for every stream topic (events.Topics), with configurable
// duplicates, late events and malformed messages, encoded as JSON or as Avro
// in the Confluent wire format, and a producer that sends them to Kafka at a
// steady rate.
//
// The generator is deterministic: the same Config (including Start) yields
// the same events, byte for byte.
package sim

import (
	"time"
)

// Formats accepted by Config.Format.
const (
	FormatJSON = "json"
	FormatAvro = "avro"
	// FormatMixed is what DESIGN.md section 1 describes: the seed 003
	// topics (consumer events and the movie catalog) in Avro through the
	// schema registry, every other topic in JSON.
	FormatMixed = "mixed"
)

// Config drives a Generator and Run.
type Config struct {
	Seed      int64
	Rate      float64       // events per second over all topics; default 100
	Duration  time.Duration // stop after this much event time (0 = no limit)
	MaxEvents int           // stop after this many events (0 = no limit)

	// Percentages (0-100) of all events.
	DuplicatePct float64 // an earlier event re-sent verbatim
	LatePct      float64 // event time 6-20 minutes before the simulated clock
	MalformedPct float64 // broken bytes (truncated JSON / bad Avro)

	Format string    // "json" (default), "avro" or "mixed"
	Start  time.Time // event-time origin; default time.Now()

	// SchemaIDs maps topic to its schema registry id, for Format "avro".
	// Run fills it from the registry; without it, ids are 1.. in
	// events.Topics() order.
	SchemaIDs map[string]int
}

// Kind tells how an event was made.
type Kind string

// Event kinds.
const (
	KindNormal    Kind = "normal"
	KindDuplicate Kind = "duplicate"
	KindLate      Kind = "late"
	KindMalformed Kind = "malformed"
)

// Event is one generated message.
type Event struct {
	Topic     string
	Key       []byte
	Value     []byte         // encoded (JSON or Confluent-framed Avro)
	Record    map[string]any // the logical record; nil when malformed. Read only.
	EventTime time.Time
	Kind      Kind
}

// Stats counts events per topic and per kind.
type Stats struct {
	Events  int
	Bytes   int64
	ByTopic map[string]int
	ByKind  map[Kind]int
	Elapsed time.Duration // wall time, filled by Run
}

func newStats() Stats {
	return Stats{ByTopic: map[string]int{}, ByKind: map[Kind]int{}}
}

func (s *Stats) add(e Event) {
	s.Events++
	s.Bytes += int64(len(e.Value))
	s.ByTopic[e.Topic]++
	s.ByKind[e.Kind]++
}

func (s Stats) clone() Stats {
	c := s
	c.ByTopic = make(map[string]int, len(s.ByTopic))
	for k, v := range s.ByTopic {
		c.ByTopic[k] = v
	}
	c.ByKind = make(map[Kind]int, len(s.ByKind))
	for k, v := range s.ByKind {
		c.ByKind[k] = v
	}
	return c
}
