package star

import "github.com/pulse-analytics/pulse/shared/table"

// Gold tables (seed 002): what shared/gold computes per day from
// FACT_APP_INTERACTIONS. Every row belongs to one UTC day (DAY), and a
// day's rows are replaced together whenever that day is computed, so
// computing days in any order, in parallel or again gives the same tables.
// The GOLD_DAU_MAU and GOLD_SESSION_STATS views read them.
var (
	// GoldSessions: one row per session. SESSION_ID =
	// md5(USER_ID|epoch microseconds of SESSION_START).
	GoldSessions = schema("GOLD_SESSIONS", "SESSION_ID",
		"SESSION_ID", s, "DAY", d, "USER_ID", s, "SESSION_START", ts, "SESSION_END", ts,
		"DURATION_SECONDS", f, "ACTIONS", i, "ACTION_SECONDS", f, "COMPUTED_AT", ts)
	// GoldActiveUsers: one row per active user per day (the input of the
	// rolling MAU), with the user's actions and sessions that day.
	GoldActiveUsers = keyed(schema("GOLD_ACTIVE_USERS", "DAY",
		"DAY", d, "USER_ID", s, "ACTIONS", i, "SESSIONS", i, "FIRST_ACTION_AT", ts, "LAST_ACTION_AT", ts,
		"COMPUTED_AT", ts), "DAY", "USER_ID")
	// GoldDaily: one row per computed day, also for a day without
	// interactions (DAU 0), so the views can tell "no activity" from "not
	// computed". INTERACTIONS counts the day's fact rows,
	// EXCLUDED_DURATION those outside 0-2 h or without a duration, EXCLUDED_SAME_TIMESTAMP the
	// extra rows of a user at one timestamp, ACTIONS what is left.
	GoldDaily = schema("GOLD_DAILY", "DAY",
		"DAY", d, "INTERACTIONS", i, "EXCLUDED_DURATION", i, "EXCLUDED_SAME_TIMESTAMP", i, "ACTIONS", i,
		"DAU", i, "SESSIONS", i, "TOTAL_SESSION_SECONDS", f, "AVG_SESSION_SECONDS", f,
		"MAX_SESSION_SECONDS", f, "AVG_ACTIONS_PER_SESSION", f, "COMPUTED_AT", ts)
)

func keyed(t *table.Schema, key ...string) *table.Schema {
	t.Key = key
	return t
}

// Gold lists the gold tables, for Warehouse.Migrate.
func Gold() []table.Schema {
	return []table.Schema{*GoldSessions, *GoldActiveUsers, *GoldDaily}
}
