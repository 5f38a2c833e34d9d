package gold

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/star"
)

// The rules (see the package comment).
const (
	// MaxDurationMS is the longest interaction that counts (2 hours).
	MaxDurationMS = 2 * 60 * 60 * 1000
	// SessionGap: an action this long or longer after the previous one
	// starts a new session.
	SessionGap = 30 * time.Minute
	// MAUDays and WAUDays are the rolling windows, ending on the day.
	MAUDays = 30
	WAUDays = 7
	// MaxRangeDays bounds one Compute or Backfill (ten years).
	MaxRangeDays = 3660
)

// DateLayout is how dates are written in inputs and outputs.
const DateLayout = "2006-01-02"

// ParseDate reads a YYYY-MM-DD date as a UTC day.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// Dates lists the UTC days from..to, both included.
func Dates(from, to time.Time) ([]time.Time, error) {
	from, to = day(from), day(to)
	if to.Before(from) {
		return nil, fmt.Errorf("date range %s..%s ends before it starts", from.Format(DateLayout), to.Format(DateLayout))
	}
	n := int(to.Sub(from).Hours()/24) + 1
	if n > MaxRangeDays {
		return nil, fmt.Errorf("date range %s..%s has %d days, more than %d", from.Format(DateLayout), to.Format(DateLayout), n, MaxRangeDays)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.AddDate(0, 0, i)
	}
	return out, nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Migrate creates the gold tables (shared/star/gold.go) if needed.
func Migrate(ctx context.Context, wh port.Warehouse) error {
	if err := wh.Migrate(ctx, star.Gold()); err != nil {
		return fmt.Errorf("migrating gold tables: %w", err)
	}
	return nil
}

// Compute replaces the gold rows of every day in [from, to] with ones
// computed from those days' facts, in one transaction where the warehouse
// offers one (else statement by statement: re-running fixes a crash in
// between). at is written as COMPUTED_AT.
func Compute(ctx context.Context, wh port.Warehouse, from, to, at time.Time) error {
	days, err := Dates(from, to)
	if err != nil {
		return err
	}
	stmts := Statements(sqlmodel.Of(wh), days, at)
	if tx, ok := wh.(port.TxExecer); ok {
		if err := tx.ExecTx(ctx, stmts); err != nil {
			return fmt.Errorf("computing gold for %s: %w", rangeText(days), err)
		}
		return nil
	}
	for _, q := range stmts {
		if err := wh.Exec(ctx, q); err != nil {
			return fmt.Errorf("computing gold for %s: %w", rangeText(days), err)
		}
	}
	return nil
}

func rangeText(days []time.Time) string {
	if len(days) == 1 {
		return days[0].Format(DateLayout)
	}
	return days[0].Format(DateLayout) + ".." + days[len(days)-1].Format(DateLayout)
}

// Statements are the SQL statements, in order, that replace the gold rows
// of the given consecutive days (see the package comment for the rules):
//
//	DELETE FROM GOLD_SESSIONS       WHERE DAY BETWEEN first AND last
//	INSERT INTO GOLD_SESSIONS       ... sessions from FACT_APP_INTERACTIONS
//	DELETE FROM GOLD_ACTIVE_USERS   WHERE DAY BETWEEN first AND last
//	INSERT INTO GOLD_ACTIVE_USERS   ... one row per user and day, from GOLD_SESSIONS
//	MERGE INTO GOLD_DAILY           ... one row per day, also for days without facts
func Statements(d sqlmodel.Dialect, days []time.Time, at time.Time) []string {
	between := " BETWEEN " + d.DateLiteral(days[0]) + " AND " + d.DateLiteral(days[len(days)-1])
	computed := d.EpochToTimestamp(strconv.FormatInt(at.UTC().UnixMicro(), 10))
	valid := "DURATION_MS BETWEEN 0 AND " + strconv.Itoa(MaxDurationMS)
	gap := strconv.FormatInt(SessionGap.Microseconds(), 10)

	// actions: counting interactions, one per user and timestamp.
	actions := "SELECT EVENT_DATE AS DAY, USER_ID, EVENT_TIME, MAX(DURATION_MS) AS DURATION_MS" +
		" FROM FACT_APP_INTERACTIONS WHERE EVENT_DATE" + between + " AND " + valid +
		" GROUP BY EVENT_DATE, USER_ID, EVENT_TIME"
	// marked: 1 where an action starts a session (first of the day, or a gap >= 30 min).
	marked := "SELECT DAY, USER_ID, EVENT_TIME, DURATION_MS, CASE WHEN " +
		d.DiffMicros("LAG(EVENT_TIME) OVER (PARTITION BY DAY, USER_ID ORDER BY EVENT_TIME)", "EVENT_TIME") +
		" < " + gap + " THEN 0 ELSE 1 END AS STARTS_SESSION FROM (" + actions + ") a"
	numbered := "SELECT DAY, USER_ID, EVENT_TIME, DURATION_MS, SUM(STARTS_SESSION) OVER (PARTITION BY DAY, USER_ID" +
		" ORDER BY EVENT_TIME ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS SESSION_NO FROM (" + marked + ") m"
	sessions := "SELECT DAY, USER_ID, MIN(EVENT_TIME) AS SESSION_START, MAX(EVENT_TIME) AS SESSION_END," +
		" COUNT(*) AS ACTIONS, SUM(DURATION_MS) AS ACTION_MS FROM (" + numbered + ") n GROUP BY DAY, USER_ID, SESSION_NO"
	insertSessions := "INSERT INTO GOLD_SESSIONS (SESSION_ID, DAY, USER_ID, SESSION_START, SESSION_END, DURATION_SECONDS," +
		" ACTIONS, ACTION_SECONDS, COMPUTED_AT) SELECT " +
		d.MD5("USER_ID || '|' || CAST("+d.EpochMicros("SESSION_START")+" AS VARCHAR)") + ", DAY, USER_ID, SESSION_START, SESSION_END, " +
		"CAST(" + d.DiffMicros("SESSION_START", "SESSION_END") + " AS DOUBLE) / 1000000, ACTIONS, CAST(ACTION_MS AS DOUBLE) / 1000, " +
		computed + " FROM (" + sessions + ") s"

	insertActive := "INSERT INTO GOLD_ACTIVE_USERS (DAY, USER_ID, ACTIONS, SESSIONS, FIRST_ACTION_AT, LAST_ACTION_AT, COMPUTED_AT)" +
		" SELECT DAY, USER_ID, SUM(ACTIONS), COUNT(*), MIN(SESSION_START), MAX(SESSION_END), " + computed +
		" FROM GOLD_SESSIONS WHERE DAY" + between + " GROUP BY DAY, USER_ID"

	values := make([]string, len(days))
	for i, t := range days {
		values[i] = "(" + d.DateLiteral(t) + ")"
	}
	facts := "SELECT EVENT_DATE AS DAY, COUNT(*) AS INTERACTIONS, SUM(CASE WHEN " + valid + " THEN 0 ELSE 1 END) AS EXCLUDED_DURATION" +
		" FROM FACT_APP_INTERACTIONS WHERE EVENT_DATE" + between + " GROUP BY EVENT_DATE"
	perDay := "SELECT DAY, COUNT(DISTINCT USER_ID) AS DAU, COUNT(*) AS SESSIONS, SUM(ACTIONS) AS ACTIONS," +
		" SUM(DURATION_SECONDS) AS TOTAL_SECONDS, AVG(DURATION_SECONDS) AS AVG_SECONDS, MAX(DURATION_SECONDS) AS MAX_SECONDS," +
		" AVG(CAST(ACTIONS AS DOUBLE)) AS AVG_ACTIONS FROM GOLD_SESSIONS WHERE DAY" + between + " GROUP BY DAY"
	daily := "(SELECT v.DAY, COALESCE(f.INTERACTIONS, 0) AS INTERACTIONS, COALESCE(f.EXCLUDED_DURATION, 0) AS EXCLUDED_DURATION," +
		" COALESCE(f.INTERACTIONS, 0) - COALESCE(f.EXCLUDED_DURATION, 0) - COALESCE(s.ACTIONS, 0) AS EXCLUDED_SAME_TIMESTAMP," +
		" COALESCE(s.ACTIONS, 0) AS ACTIONS, COALESCE(s.DAU, 0) AS DAU, COALESCE(s.SESSIONS, 0) AS SESSIONS," +
		" COALESCE(s.TOTAL_SECONDS, 0) AS TOTAL_SESSION_SECONDS, s.AVG_SECONDS AS AVG_SESSION_SECONDS," +
		" s.MAX_SECONDS AS MAX_SESSION_SECONDS, s.AVG_ACTIONS AS AVG_ACTIONS_PER_SESSION, " + computed + " AS COMPUTED_AT" +
		" FROM (VALUES " + strings.Join(values, ", ") + ") AS v(DAY)" +
		" LEFT JOIN (" + facts + ") f ON f.DAY = v.DAY LEFT JOIN (" + perDay + ") s ON s.DAY = v.DAY)"

	return []string{
		"DELETE FROM GOLD_SESSIONS WHERE DAY" + between,
		insertSessions,
		"DELETE FROM GOLD_ACTIVE_USERS WHERE DAY" + between,
		insertActive,
		d.Merge(*star.GoldDaily, daily),
	}
}
