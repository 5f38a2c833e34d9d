package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/pulse-analytics/pulse/events"
)

const historySize = 1024

// Generator produces a deterministic stream of events for a Config.
// It is not safe for concurrent use.
type Generator struct {
	cfg      Config
	r        *rand.Rand
	enc      *encoder
	encErr   error
	n        int // events emitted
	consumer *consumerState
	web      *webState
	movies   []Movie
	movieAt  int
	history  []Event
	histNext int
	delayed  []delayed // late events waiting to be sent, by send time
	stats    Stats
}

// topicWeight is the share of fresh events each stream gets; "consumer" is
// the seed 003 flow, which picks its own topic from the state.
var topicWeights = []struct {
	topic  string
	weight int
}{
	{"consumer", 40},
	{events.TopicPageviews, 14},
	{events.TopicUserSessions, 4},
	{events.TopicUsers, 3},
	{events.TopicLiveStreaming, 12},
	{events.TopicVideoInteractions, 12},
	{events.TopicSocialSales, 12},
	{events.TopicMoviesCatalog, 3},
}

// NewGenerator returns a generator for cfg. Zero values get defaults: Rate
// 100, Format "json", Start time.Now(). An unusable Format or a schema that
// does not parse makes every later Next return false; Err tells why.
func NewGenerator(cfg Config) *Generator {
	if cfg.Rate <= 0 {
		cfg.Rate = 100
	}
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	cfg.Start = cfg.Start.UTC()
	g := &Generator{
		cfg:      cfg,
		r:        rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		consumer: newConsumerState(),
		web:      &webState{ids: map[int32]bool{}},
		movies:   Movies(),
		stats:    newStats(),
	}
	g.enc, g.encErr = newEncoder(cfg.Format, cfg.SchemaIDs)
	return g
}

// Err reports why the generator cannot produce events (bad Format or schema).
func (g *Generator) Err() error { return g.encErr }

// Stats returns the counts of events generated so far.
func (g *Generator) Stats() Stats { return g.stats.clone() }

// Clock returns the simulated time of the next event generated.
func (g *Generator) Clock() time.Time {
	return g.cfg.Start.Add(time.Duration(math.Round(float64(g.n) * 1e9 / g.cfg.Rate)))
}

// Next returns the next event, or false when the stream has ended: after
// MaxEvents events were generated or Duration of event time has passed,
// and every delayed (late) event has been sent. The first events are the
// movie catalog (the catalog workflow publishes it before any activity).
//
// A late event is generated, and changes the world, at its own time like
// any other, but is held back and sent 6-20 minutes (event time) later, so
// the stream stays causal (no sign-out before its sign-in) while arriving
// out of order. A duplicate is an earlier event sent again verbatim.
func (g *Generator) Next() (Event, bool) {
	if g.encErr != nil {
		return Event{}, false
	}
	for {
		now := g.Clock()
		if ev, ok := g.due(now); ok {
			g.stats.add(ev)
			g.remember(ev)
			return ev, true
		}
		if g.done(now) {
			return Event{}, false
		}
		g.n++
		var ev Event
		var err error
		u := g.r.Float64() * 100
		switch {
		case g.movieAt < len(g.movies):
			ev, err = g.fresh(now, KindNormal)
		case u < g.cfg.MalformedPct:
			ev, err = g.malformed(now)
		case u < g.cfg.MalformedPct+g.cfg.DuplicatePct && len(g.history) > 0:
			ev = g.history[g.r.IntN(len(g.history))]
			ev.Kind = KindDuplicate
		case u < g.cfg.MalformedPct+g.cfg.DuplicatePct+g.cfg.LatePct:
			lag := time.Duration(6*60+g.r.IntN(14*60+1)) * time.Second
			ev, err = g.fresh(now, KindLate)
			if err == nil {
				g.delay(ev, now.Add(lag))
				continue
			}
		default:
			ev, err = g.fresh(now, KindNormal)
		}
		if err != nil {
			g.encErr = err
			return Event{}, false
		}
		if ev.Kind == KindNormal {
			g.remember(ev)
		}
		g.stats.add(ev)
		return ev, true
	}
}

// done reports whether no more events are to be generated.
func (g *Generator) done(now time.Time) bool {
	return g.cfg.MaxEvents > 0 && g.n >= g.cfg.MaxEvents ||
		g.cfg.Duration > 0 && now.Sub(g.cfg.Start) >= g.cfg.Duration
}

// delayed is a late event waiting for its send time.
type delayed struct {
	ev   Event
	send time.Time
}

func (g *Generator) delay(ev Event, send time.Time) {
	i := sort.Search(len(g.delayed), func(i int) bool { return g.delayed[i].send.After(send) })
	g.delayed = append(g.delayed, delayed{})
	copy(g.delayed[i+1:], g.delayed[i:])
	g.delayed[i] = delayed{ev, send}
}

// due pops the first delayed event whose send time has come (all of them,
// in order, once generation has ended).
func (g *Generator) due(now time.Time) (Event, bool) {
	if len(g.delayed) == 0 || (g.delayed[0].send.After(now) && !g.done(now)) {
		return Event{}, false
	}
	ev := g.delayed[0].ev
	g.delayed = g.delayed[1:]
	return ev, true
}

func (g *Generator) remember(ev Event) {
	if len(g.history) < historySize {
		g.history = append(g.history, ev)
		return
	}
	g.history[g.histNext] = ev
	g.histNext = (g.histNext + 1) % historySize
}

// draft is a record not yet emitted; commit applies its effect on the state.
type draft struct {
	topic  string
	key    string
	rec    map[string]any
	commit func()
}

func (g *Generator) fresh(t time.Time, kind Kind) (Event, error) {
	d := g.draft(t)
	if d.commit != nil {
		d.commit()
	}
	value, err := g.enc.encode(d.topic, d.rec)
	if err != nil {
		return Event{}, fmt.Errorf("encoding %s event: %w", d.topic, err)
	}
	return Event{Topic: d.topic, Key: []byte(d.key), Value: value, Record: d.rec, EventTime: t, Kind: kind}, nil
}

// malformed drafts a record (without changing the state) and breaks its bytes.
func (g *Generator) malformed(t time.Time) (Event, error) {
	d := g.draft(t)
	value, err := g.enc.encode(d.topic, d.rec)
	if err != nil {
		return Event{}, fmt.Errorf("encoding %s event: %w", d.topic, err)
	}
	return Event{Topic: d.topic, Key: []byte(d.key), Value: g.enc.corrupt(g.r, d.topic, value), EventTime: t, Kind: KindMalformed}, nil
}

func (g *Generator) draft(t time.Time) draft {
	if g.movieAt < len(g.movies) {
		return g.movieEvent() // the catalog first
	}
	total := 0
	for _, w := range topicWeights {
		total += w.weight
	}
	x := g.r.IntN(total)
	topic := topicWeights[len(topicWeights)-1].topic
	for _, w := range topicWeights {
		if x < w.weight {
			topic = w.topic
			break
		}
		x -= w.weight
	}
	switch topic {
	case "consumer":
		return g.consumerEvent(t)
	case events.TopicPageviews:
		return g.pageview(t)
	case events.TopicUserSessions:
		return g.userSession(t)
	case events.TopicUsers:
		return g.userRow()
	case events.TopicLiveStreaming:
		return g.liveStreaming(t)
	case events.TopicVideoInteractions:
		return g.videoInteraction(t)
	case events.TopicSocialSales:
		return g.socialSales(t)
	default:
		return g.movieEvent()
	}
}
