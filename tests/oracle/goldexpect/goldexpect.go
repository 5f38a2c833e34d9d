// Package goldexpect is the independent computation of seed 002's gold
// layer (DAU, WAU, MAU, sessions per UTC day) from the app_interactions
// files themselves, with the seed's rules written out again in plain Go:
// nothing here calls Pulse's cleaning, gold or SQL code. The oracle test
// (tests/oracle) and the local cloud test (tests/e2e) both compare the
// warehouse's gold tables with it.
package goldexpect

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Action is one loaded app interaction.
type Action struct {
	User        string
	At          time.Time
	Action      string
	Duration    int64
	HasDuration bool // false: blank in the file, NULL in the fact
}

// Counts is one file's accounting.
type Counts struct {
	Received, Loaded, Rejected, Duplicate int64
}

// Reader reads app_interactions CSV files in drop order: a row without a
// user, with an unreadable timestamp, an unknown action or a negative
// duration is rejected; a row repeating an earlier one's user, timestamp
// and action (in any file read before) is a duplicate.
type Reader struct {
	// Actions are the loaded interactions so far, in file order.
	Actions []Action
	seen    map[string]bool
}

var appActions = map[string]bool{"page_view": true, "edit": true, "create": true, "delete": true, "share": true}

// ReadCSV reads one file and returns its accounting.
func (r *Reader) ReadCSV(path string) (Counts, error) {
	var c Counts
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return c, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(recs) == 0 {
		return c, nil
	}
	head := map[string]int{}
	for i, h := range recs[0] {
		head[h] = i
	}
	for _, rec := range recs[1:] {
		get := func(k string) (string, bool) {
			v := strings.TrimSpace(rec[head[k]])
			return v, v != ""
		}
		c.Received++
		user, _ := get("user_id")
		ts, _ := get("timestamp")
		action, _ := get("action_type")
		// A blank duration is missing (NULL in the fact): loaded, but not an
		// interaction that counts (seed 002: a valid duration of 0 to 2 h).
		durS, present := get("duration_ms")
		dur, _ := strconv.ParseInt(durS, 10, 64)
		at, err := time.Parse("2006-01-02 15:04:05.000", ts)
		if user == "" || err != nil || !appActions[action] || present && dur < 0 {
			c.Rejected++
			continue
		}
		key := user + "|" + ts + "|" + action
		if r.seen[key] {
			c.Duplicate++
			continue
		}
		r.seen[key] = true
		c.Loaded++
		r.Actions = append(r.Actions, Action{User: user, At: at, Action: action, Duration: dur, HasDuration: present})
	}
	return c, nil
}

// Day is one UTC day's figures.
type Day struct {
	Interactions, ExcludedDuration, ExcludedSameTS, Actions int64
	Users                                                   map[string]bool
	Sessions                                                []Session
}

// Session is one user's session.
type Session struct {
	User       string
	Start, End time.Time
	Actions    int64
}

// Days works out the seed 002 figures per UTC day (YYYY-MM-DD) from the
// loaded app interactions: an action counts with a duration of 0 to 2 h (a
// missing duration does not count); one user's counting actions at one
// timestamp are one; sessions break at a gap of 30 minutes or more and at
// midnight. Every day with an interaction is present, even when none of
// its interactions counts.
func Days(app []Action) map[string]*Day {
	days := map[string]*Day{}
	get := func(d string) *Day {
		if days[d] == nil {
			days[d] = &Day{Users: map[string]bool{}}
		}
		return days[d]
	}
	type ua struct {
		user string
		at   time.Time
	}
	byUserDay := map[string][]time.Time{}
	counted := map[ua]bool{}
	for _, a := range app {
		g := get(a.At.Format("2006-01-02"))
		g.Interactions++
		if !a.HasDuration || a.Duration < 0 || a.Duration > 2*3600*1000 {
			g.ExcludedDuration++
			continue
		}
		k := ua{a.User, a.At}
		if counted[k] {
			g.ExcludedSameTS++
			continue
		}
		counted[k] = true
		g.Actions++
		g.Users[a.User] = true
		key := a.At.Format("2006-01-02") + "|" + a.User
		byUserDay[key] = append(byUserDay[key], a.At)
	}
	for key, times := range byUserDay {
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		d, user, _ := strings.Cut(key, "|")
		g := days[d]
		s := Session{User: user, Start: times[0], End: times[0], Actions: 1}
		for _, at := range times[1:] {
			if at.Sub(s.End) >= 30*time.Minute {
				g.Sessions = append(g.Sessions, s)
				s = Session{User: user, Start: at, End: at}
			}
			s.End = at
			s.Actions++
		}
		g.Sessions = append(g.Sessions, s)
	}
	return days
}

// Row is one day's expected gold: GOLD_DAU_MAU, GOLD_SESSION_STATS and
// GOLD_DAILY joined on the day.
type Row struct {
	Day                   string
	DAU, WAU, MAU         int64
	Ratio                 any   // DAU/MAU as float64, nil when MAU is 0
	MAUDaysComputed       int64 // the days of the 30-day window whose gold is computed
	Interactions, Actions int64
	Sessions              int64
	AvgSessionSeconds     any // float64, nil on a day without sessions
	AvgActionsPerSession  any
	MaxSessionSeconds     any
	ExcludedDuration      int64
	ExcludedSameTimestamp int64
}

// Query reads the warehouse's gold in Row's order (DuckDB and Snowflake).
const Query = `SELECT strftime(m.DAY, '%Y-%m-%d'), m.DAU, m.WAU, m.MAU, m.DAU_MAU_RATIO, m.MAU_DAYS_COMPUTED, m.INTERACTIONS, m.ACTIONS,
	s.SESSIONS, s.AVG_SESSION_SECONDS, s.AVG_ACTIONS_PER_SESSION, s.MAX_SESSION_SECONDS, d.EXCLUDED_DURATION, d.EXCLUDED_SAME_TIMESTAMP
	FROM GOLD_DAU_MAU m JOIN GOLD_SESSION_STATS s ON s.DAY = m.DAY JOIN GOLD_DAILY d ON d.DAY = m.DAY ORDER BY m.DAY`

// Values are the row's columns in Query's order.
func (r Row) Values() []any {
	return []any{r.Day, r.DAU, r.WAU, r.MAU, r.Ratio, r.MAUDaysComputed, r.Interactions, r.Actions,
		r.Sessions, r.AvgSessionSeconds, r.AvgActionsPerSession, r.MaxSessionSeconds, r.ExcludedDuration, r.ExcludedSameTimestamp}
}

// Rows are the expected gold rows of every day from..to once those days,
// and no earlier ones, are computed: WAU and MAU count the distinct active
// users of the 7 and 30 days ending on the day.
func Rows(days map[string]*Day, from, to time.Time) []Row {
	var out []Row
	for i, day := 0, from; !day.After(to); i, day = i+1, day.AddDate(0, 0, 1) {
		g := days[day.Format("2006-01-02")]
		if g == nil {
			g = &Day{Users: map[string]bool{}}
		}
		window := func(n int) int64 {
			set := map[string]bool{}
			for k := 0; k < n; k++ {
				if w := days[day.AddDate(0, 0, -k).Format("2006-01-02")]; w != nil {
					for u := range w.Users {
						set[u] = true
					}
				}
			}
			return int64(len(set))
		}
		r := Row{Day: day.Format("2006-01-02"), DAU: int64(len(g.Users)), WAU: window(7), MAU: window(30),
			MAUDaysComputed: int64(min(i+1, 30)), Interactions: g.Interactions, Actions: g.Actions, Sessions: int64(len(g.Sessions)),
			ExcludedDuration: g.ExcludedDuration, ExcludedSameTimestamp: g.ExcludedSameTS}
		if r.MAU > 0 {
			r.Ratio = float64(r.DAU) / float64(r.MAU)
		}
		if n := len(g.Sessions); n > 0 {
			var secs, acts, most float64
			for _, s := range g.Sessions {
				d := s.End.Sub(s.Start).Seconds()
				secs += d
				acts += float64(s.Actions)
				most = math.Max(most, d)
			}
			r.AvgSessionSeconds, r.AvgActionsPerSession, r.MaxSessionSeconds = secs/float64(n), acts/float64(n), most
		}
		out = append(out, r)
	}
	return out
}

// Same says whether a warehouse row equals the expected values: floats
// within 1e-9 relative, the rest as printed.
func Same(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, gok := got[i].(float64)
		w, wok := want[i].(float64)
		if gok && wok {
			if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
				return false
			}
			continue
		}
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			return false
		}
	}
	return true
}
