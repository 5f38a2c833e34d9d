package session

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/pulse-analytics/pulse/shared/window"
)

// Session is one user session, from either source:
//   - Sessionize (gap-based): Start and End are the first and last action,
//     Actions and ActionSeconds describe the actions;
//   - Tracker (sign-in/sign-out): Start is the sign-in, End the sign-out,
//     or Start+Timeout with TimedOut set when no sign-out came in time.
//
// DurationSeconds is End - Start in seconds. ID is UserID|Start (RFC 3339),
// a stable key for loading sessions with a MERGE.
type Session struct {
	ID              string
	UserID          string
	Start           time.Time
	End             time.Time
	DurationSeconds float64
	Actions         int
	ActionSeconds   float64
	TimedOut        bool
}

// Kind is a sign-in or a sign-out.
type Kind uint8

// Event kinds.
const (
	SignIn Kind = iota + 1
	SignOut
)

func (k Kind) String() string {
	switch k {
	case SignIn:
		return "sign_in"
	case SignOut:
		return "sign_out"
	}
	return "unknown"
}

// Event is one sign-in or sign-out, with its position in its source
// (same rule as window.Event: offsets increase within a partition; an
// empty Partition opts out of redelivery detection).
type Event struct {
	Kind   Kind
	UserID string
	Time   time.Time
	Origin window.Origin
}

// Metrics are the session metrics at one instant (seed 003 bonus,
// table session_metrics). The metrics at an instant M count every event
// at M: a sign-in at M is an active session, a sign-out at M has ended
// its session (sign-outs apply before sign-ins at one instant), a session
// whose timeout falls at M is over. The periodic rows follow the same
// rule: the row of a boundary M is emitted only once every event at M has
// been applied.
type Metrics struct {
	Timestamp time.Time
	// ActiveSessions: sessions with sign-in at or before Timestamp, not
	// signed out, and not yet timed out (Start+Timeout > Timestamp).
	ActiveSessions int64
	// AvgSessionDurationSeconds: mean of End-Start over all sessions ended
	// by a sign-out so far (cumulative since the state began). Timed-out
	// sessions are left out (their true end is unknown); 0 if none ended.
	AvgSessionDurationSeconds float64
	// AvgActiveAgeSeconds: mean of Timestamp-Start over the active
	// sessions, the "duration so far" of sessions still open; 0 if none.
	AvgActiveAgeSeconds float64
	EndedSessions       int64 // cumulative, ended by sign-out
	TimedOutSessions    int64 // cumulative
	OrphanSignOuts      int64 // cumulative sign-outs with no matching sign-in
}

// Config configures a Tracker.
type Config struct {
	// Timeout closes a session with no sign-out this long after its
	// sign-in. 0 means 30 minutes.
	Timeout time.Duration
	// MetricsEvery is the tumbling interval at whose boundaries (aligned to
	// the Unix epoch) Apply and Advance emit Metrics. 0 means one minute;
	// negative turns periodic metrics off (call Metrics on demand).
	MetricsEvery time.Duration
}

// DefaultTimeout is the default Config.Timeout.
const DefaultTimeout = 30 * time.Minute

// maxTicks bounds the metrics one call emits after a jump in time: only
// the last maxTicks boundaries are emitted.
const maxTicks = 1440

// Output is what one call produced.
type Output struct {
	Ended      []Session // sessions closed by sign-out or timeout, in event-time order
	Metrics    []Metrics // one per boundary crossed
	Orphans    []Event   // sign-outs without a matching sign-in
	Duplicates int       // redelivered events skipped
}

// Stats are cumulative counts (redeliveries are not counted, so applying a
// batch again leaves the state unchanged).
type Stats struct {
	SignIns         int64
	SignOuts        int64
	RepeatedSignIns int64 // sign-in while a session was active: ignored, the session keeps its start
	Ended           int64
	TimedOut        int64
	Orphans         int64
	EndedNanos      int64 // total duration of Ended sessions
}

// Tracker follows sign-in/sign-out sessions per user. Events are applied
// in event-time order within a call (sign-outs before sign-ins at the same
// instant); across calls, a sign-out older than the user's active sign-in
// is an orphan. Not safe for concurrent use.
type Tracker struct {
	timeout int64
	every   int64

	active   map[string]int64 // user -> sign-in time (Unix ns)
	offsets  map[string]int64
	nextTick int64 // next metrics boundary; 0 before the first event
	stats    Stats
}

// NewTracker returns an empty tracker.
func NewTracker(cfg Config) (*Tracker, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("configuring session tracker: negative timeout %s", cfg.Timeout)
	}
	t := &Tracker{timeout: int64(cfg.Timeout), every: int64(cfg.MetricsEvery)}
	if t.timeout == 0 {
		t.timeout = int64(DefaultTimeout)
	}
	if t.every == 0 {
		t.every = int64(time.Minute)
	}
	t.reset()
	return t, nil
}

func (t *Tracker) reset() {
	t.active = make(map[string]int64)
	t.offsets = make(map[string]int64)
	t.nextTick = 0
	t.stats = Stats{}
}

// Stats returns the cumulative counts.
func (t *Tracker) Stats() Stats { return t.stats }

// SignIn applies one sign-in without an origin.
func (t *Tracker) SignIn(user string, at time.Time) Output {
	return t.Apply([]Event{{Kind: SignIn, UserID: user, Time: at}})
}

// SignOut applies one sign-out without an origin.
func (t *Tracker) SignOut(user string, at time.Time) Output {
	return t.Apply([]Event{{Kind: SignOut, UserID: user, Time: at}})
}

// Apply applies events: redeliveries (by origin) are skipped, the rest are
// applied in event-time order. Before each event, every metrics boundary
// strictly before its time is emitted, after closing sessions timed out by
// then; a boundary at the event's own time waits, as more events at that
// instant may follow (see Metrics).
func (t *Tracker) Apply(events []Event) Output {
	var out Output
	fresh := make([]int, 0, len(events))
	for i := range events {
		ev := &events[i]
		if p := ev.Origin.Partition; p != "" {
			if hw, ok := t.offsets[p]; ok && ev.Origin.Offset <= hw {
				out.Duplicates++
				continue
			}
			t.offsets[p] = ev.Origin.Offset
		}
		fresh = append(fresh, i)
	}
	sort.SliceStable(fresh, func(i, j int) bool {
		a, b := &events[fresh[i]], &events[fresh[j]]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.Kind == SignOut && b.Kind == SignIn
	})
	for _, i := range fresh {
		t.apply(&events[i], &out)
	}
	return out
}

func (t *Tracker) apply(ev *Event, out *Output) {
	at := ev.Time.UnixNano()
	t.tick(at, false, out)
	start, ok := t.active[ev.UserID]
	if ok && start+t.timeout <= at {
		t.timeOut(ev.UserID, start, out)
		ok = false
	}
	switch ev.Kind {
	case SignIn:
		t.stats.SignIns++
		if ok {
			t.stats.RepeatedSignIns++
			return
		}
		t.active[ev.UserID] = at
	case SignOut:
		t.stats.SignOuts++
		if !ok || at < start {
			t.stats.Orphans++
			out.Orphans = append(out.Orphans, *ev)
			return
		}
		delete(t.active, ev.UserID)
		t.stats.Ended++
		t.stats.EndedNanos += at - start
		out.Ended = append(out.Ended, makeSession(ev.UserID, start, at, false))
	default:
		out.Orphans = append(out.Orphans, *ev) // unknown kind: reported, never applied
	}
}

func makeSession(user string, start, end int64, timedOut bool) Session {
	s := Session{UserID: user, Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC(),
		DurationSeconds: time.Duration(end - start).Seconds(), Actions: 2, TimedOut: timedOut}
	if timedOut {
		s.Actions = 1
	}
	s.ID = sessionID(user, s.Start)
	return s
}

func (t *Tracker) timeOut(user string, start int64, out *Output) {
	delete(t.active, user)
	t.stats.TimedOut++
	out.Ended = append(out.Ended, makeSession(user, start, start+t.timeout, true))
}

// expire closes every session timed out at or before at, oldest first.
func (t *Tracker) expire(at int64, out *Output) {
	var users []string
	for u, start := range t.active {
		if start+t.timeout <= at {
			users = append(users, u)
		}
	}
	sort.Slice(users, func(i, j int) bool {
		si, sj := t.active[users[i]], t.active[users[j]]
		if si != sj {
			return si < sj
		}
		return users[i] < users[j]
	})
	for _, u := range users {
		t.timeOut(u, t.active[u], out)
	}
}

// tick emits the metrics of every boundary before through (at or before
// it when inclusive): the events of those instants have all been applied.
func (t *Tracker) tick(through int64, inclusive bool, out *Output) {
	if t.every < 0 {
		return
	}
	if t.nextTick == 0 { // the first event: rows start at the next boundary after it
		t.nextTick = floorDiv(through, t.every)*t.every + t.every
		return
	}
	end := through // the boundaries to emit are < end
	if inclusive {
		end++
	}
	if end <= t.nextTick {
		return
	}
	last := floorDiv(end-1, t.every) * t.every
	if n := (last-t.nextTick)/t.every + 1; n > maxTicks {
		t.nextTick = last - (maxTicks-1)*t.every
	}
	for ; t.nextTick < end; t.nextTick += t.every {
		t.expire(t.nextTick, out)
		out.Metrics = append(out.Metrics, t.Metrics(time.Unix(0, t.nextTick).UTC()))
	}
}

// Advance moves time to now (event time, or processing time standing in
// for it when the stream is idle), when every event before now has been
// applied: sessions timed out at or before now close and the metrics of
// the boundaries before now are emitted. A boundary at now waits for the
// events at now (see Metrics); AdvanceThrough emits it.
func (t *Tracker) Advance(now time.Time) Output {
	return t.advance(now.UnixNano(), false)
}

// AdvanceThrough is Advance when the events at now have been applied too
// (the end of the input): the boundary at now, if now is one, is emitted
// as well.
func (t *Tracker) AdvanceThrough(now time.Time) Output {
	return t.advance(now.UnixNano(), true)
}

func (t *Tracker) advance(at int64, inclusive bool) Output {
	var out Output
	if t.nextTick != 0 {
		t.tick(at, inclusive, &out)
	}
	t.expire(at, &out)
	return out
}

// Metrics computes the metrics at instant at from the current state
// (see Metrics' fields for the definitions). It changes nothing.
func (t *Tracker) Metrics(at time.Time) Metrics {
	m := Metrics{Timestamp: at.UTC(), EndedSessions: t.stats.Ended, TimedOutSessions: t.stats.TimedOut,
		OrphanSignOuts: t.stats.Orphans}
	a := at.UnixNano()
	var age int64
	for _, start := range t.active {
		if start <= a && a < start+t.timeout {
			m.ActiveSessions++
			age += a - start
		}
	}
	if m.ActiveSessions > 0 {
		m.AvgActiveAgeSeconds = time.Duration(age / m.ActiveSessions).Seconds()
	}
	if t.stats.Ended > 0 {
		m.AvgSessionDurationSeconds = time.Duration(t.stats.EndedNanos / t.stats.Ended).Seconds()
	}
	return m
}

type trackerState struct {
	Format   int              `json:"format"`
	Timeout  int64            `json:"timeout"`
	Active   map[string]int64 `json:"active"`
	Offsets  map[string]int64 `json:"offsets"`
	NextTick int64            `json:"next_tick"`
	Stats    Stats            `json:"stats"`
}

// Snapshot serialises the tracker's state as JSON; equal states give equal
// bytes.
func (t *Tracker) Snapshot() ([]byte, error) {
	b, err := json.Marshal(trackerState{Format: 1, Timeout: t.timeout, Active: t.active, Offsets: t.offsets,
		NextTick: t.nextTick, Stats: t.stats})
	if err != nil {
		return nil, fmt.Errorf("encoding session tracker snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the state with a snapshot from a tracker with the same
// timeout; empty data resets it. On error the state is unchanged.
func (t *Tracker) Restore(data []byte) error {
	if len(data) == 0 {
		t.reset()
		return nil
	}
	var s trackerState
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("decoding session tracker snapshot: %w", err)
	}
	if s.Format != 1 || s.Timeout != t.timeout {
		return fmt.Errorf("restoring session tracker snapshot: format %d timeout %s, want format 1 timeout %s",
			s.Format, time.Duration(s.Timeout), time.Duration(t.timeout))
	}
	t.reset()
	for u, v := range s.Active {
		t.active[u] = v
	}
	for p, o := range s.Offsets {
		t.offsets[p] = o
	}
	t.nextTick, t.stats = s.NextTick, s.Stats
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
