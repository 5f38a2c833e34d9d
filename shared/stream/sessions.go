package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/session"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// sessions: seed 003 bonus. Sign-ins and sign-outs come on two topics; a
// reorder buffer releases them in event-time order (sign-outs first at
// equal times) once both topics have passed them, into a session.Tracker
// that pairs them per user, closes sessions without a sign-out after the
// timeout (flagged TIMED_OUT), and reports at every minute of event time
// the active sessions and the mean sign-in to sign-out duration.
//
// Every SESSION_METRICS row follows one convention (session.Metrics): the
// row of minute M describes the instant M with every sign-in and sign-out
// at M applied, so a sign-in at M is active in it and a sign-out at M has
// ended its session. The reorder buffer releases events before its
// frontier F, so after a batch the tracker advances to F and emits the
// minutes before F; the minute at F waits for the events at F. The flush
// has released everything: it emits the minutes through the last event.
//
// A sign-in or sign-out behind its partition's watermark (or the
// frontier) is late: it is loaded into CONSUMER_EVENTS like any other, stays out of the
// sessions and their metrics, and goes to PULSE_LATE_EVENTS with the
// metrics minute it missed.
type sessions struct {
	cfg Config
	buf *reorder
	tr  *session.Tracker
}

type sessionsState struct {
	Buffer  json.RawMessage `json:"buffer"`
	Tracker json.RawMessage `json:"tracker"`
}

// sessionMinute is the metrics interval (seed 003: "in real time").
const sessionMinute = time.Minute

func newSessions(c Config) processor {
	tr, err := session.NewTracker(session.Config{Timeout: c.SessionTimeout, MetricsEvery: sessionMinute})
	if err != nil {
		panic(err) // a negative SessionTimeout is a programming error
	}
	return &sessions{cfg: c, buf: newReorder(c, "sign_in", "sign_out"), tr: tr}
}

func (p *sessions) name() string       { return "session_metrics" }
func (p *sessions) datasets() []string { return []string{"sign_in", "sign_out"} }

func (p *sessions) snapshot() ([]byte, error) {
	buf, err := json.Marshal(p.buf)
	if err != nil {
		return nil, err
	}
	tr, err := p.tr.Snapshot()
	if err != nil {
		return nil, err
	}
	return rawObject([]string{"buffer", "tracker"}, [][]byte{buf, tr}), nil
}

func (p *sessions) restore(data []byte) error {
	p.buf.reset()
	var st sessionsState
	if len(data) > 0 {
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding sessions state: %w", err)
		}
		p.buf.V = 0
		if err := json.Unmarshal(st.Buffer, p.buf); err != nil {
			return fmt.Errorf("decoding sessions buffer: %w", err)
		}
		if p.buf.MaxT == nil || p.buf.Seen == nil {
			return fmt.Errorf("decoding sessions buffer: no watermarks")
		}
		p.buf.upgrade()
	}
	return p.tr.Restore(st.Tracker)
}

func kindOf(topic string) session.Kind {
	if topic == "sign_out" {
		return session.SignOut
	}
	return session.SignIn
}

func (p *sessions) apply(_ context.Context, now time.Time, recs []*rec, o *outputs, _ *lookups) error {
	for _, r := range recs {
		in, part := r.msg.Topic, inputOf(r)
		bound := p.buf.lateBound(part)
		p.buf.seen(part, r.t, now)
		if r.t < bound {
			r.late = true
			start := fromMicros(r.t).Truncate(sessionMinute)
			o.addLate(r, "session_metrics", window.Window{Start: start, End: start.Add(sessionMinute)}, bound)
			continue
		}
		rank := 1
		if kindOf(in) == session.SignOut {
			rank = 0
		}
		p.buf.add(pending{T: r.t, Rank: rank, Input: in, Origin: r.origin(), Key: itoa(r.cell("user_id").I)})
	}
	p.feed(p.buf.advance(now), p.buf.Frontier, false, o)
	return nil
}

func (p *sessions) advance(_ context.Context, now time.Time, o *outputs, _ *lookups) error {
	before := p.buf.Frontier
	released := p.buf.advance(now)
	if p.buf.Frontier != before || len(released) > 0 {
		p.feed(released, p.buf.Frontier, false, o)
	}
	return nil
}

func (p *sessions) flush(_ context.Context, _ time.Time, o *outputs, _ *lookups) error {
	last := int64(noTime)
	for _, t := range p.buf.MaxT {
		last = max(last, t)
	}
	released := p.buf.flush()
	if last == noTime {
		return nil
	}
	// Metrics go up to the last event time seen, not to the flush frontier:
	// the minute at the last event time too (every event is applied), and
	// the end of the input gets its own row (METRIC_TIME = the last event
	// time) when it falls between two minutes, so a short run still
	// reports its sessions.
	p.feed(released, last, true, o)
	if last%sessionMinute.Microseconds() != 0 {
		p.emit(p.tr.Metrics(fromMicros(last)), o)
	}
	return nil
}

func (p *sessions) emit(m session.Metrics, o *outputs) {
	o.add(star.SessionMetrics, table.Row{{I: micros(m.Timestamp)}, {I: m.ActiveSessions}, {F: m.AvgSessionDurationSeconds},
		{F: m.AvgActiveAgeSeconds}, {I: m.EndedSessions}, {I: m.TimedOutSessions}, {I: micros(o.now)}, {I: m.OrphanSignOuts},
		{I: micros(m.Timestamp)}})
}

// feed applies released events to the tracker, then moves it to the
// frontier (closing timed-out sessions and emitting each minute before
// it, or through it when every event at the frontier is applied too).
func (p *sessions) feed(released []pending, frontier int64, through bool, o *outputs) {
	evs := make([]session.Event, len(released))
	for i, pe := range released {
		evs[i] = session.Event{Kind: kindOf(pe.Input), UserID: pe.Key, Time: fromMicros(pe.T)}
	}
	out := p.tr.Apply(evs)
	if frontier != noTime {
		advance := p.tr.Advance
		if through {
			advance = p.tr.AdvanceThrough
		}
		adv := advance(fromMicros(frontier))
		out.Ended = append(out.Ended, adv.Ended...)
		out.Metrics = append(out.Metrics, adv.Metrics...)
	}
	at := table.Cell{I: micros(o.now)}
	for _, s := range out.Ended {
		user, _ := strconv.ParseInt(s.UserID, 10, 64)
		o.add(star.ConsumerSessions, table.Row{{S: s.ID}, {I: user}, {I: micros(s.Start)}, {I: micros(s.End)},
			{F: s.DurationSeconds}, {B: s.TimedOut}, at})
	}
	for _, m := range out.Metrics {
		p.emit(m, o)
	}
}
