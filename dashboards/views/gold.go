package views

import (
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// Seed 002: the gold views over what shared/gold computes (GOLD_DAILY,
// GOLD_ACTIVE_USERS). The active-user criteria and the session rule are
// shared/gold's (see its package comment): an active user has at least one
// page_view/edit/create/delete/share of 0-2 h, same-timestamp duplicates
// counted once; sessions end at a 30-minute gap or at UTC midnight. "The
// past year" is the 365 days ending at the newest computed day that has app
// interactions (GOLD_DAILY.INTERACTIONS > 0): the views are anchored to the
// data. A day computed without data after it (a backfill of an empty or
// future range, a scheduled run over a quiet day) stays in GOLD_DAILY but
// neither moves nor extends the past year; days without data inside it
// show as DAU 0.

// PastYearDays is how many days back from the newest day with data the
// gold views reach.
const PastYearDays = 365

func pastYear(d sqlmodel.Dialect, col string) string {
	anchor := "(SELECT MAX(DAY) FROM GOLD_DAILY WHERE INTERACTIONS > 0)"
	return col + " > " + dateAdd(d, "day", -PastYearDays, anchor) + " AND " + col + " <= " + anchor
}

var (
	// GoldDAUMAU: per computed day, DAU, WAU (distinct active users in the 7
	// days ending that day), MAU (in the 30 days ending that day, a rolling
	// window rather than a calendar month), DAU/MAU, and how many of the
	// MAU window's 30 days have been computed (less than 30 at the start of
	// the data, or where days are missing).
	// Columns: DAY, DAU, WAU, MAU, DAU_MAU_RATIO, MAU_DAYS_COMPUTED,
	// INTERACTIONS, ACTIONS.
	GoldDAUMAU = dialectView("GOLD_DAU_MAU", "Daily and monthly active users", func(d sqlmodel.Dialect) string {
		return `
SELECT g.DAY, g.DAU,
       COUNT(DISTINCT CASE WHEN a.DAY >= ` + dateAdd(d, "day", -(gold.WAUDays-1), "g.DAY") + ` THEN a.USER_ID END) AS WAU,
       COUNT(DISTINCT a.USER_ID) AS MAU,
       CAST(g.DAU AS DOUBLE) / NULLIF(COUNT(DISTINCT a.USER_ID), 0) AS DAU_MAU_RATIO,
       w.DAYS_COMPUTED AS MAU_DAYS_COMPUTED, g.INTERACTIONS, g.ACTIONS
  FROM GOLD_DAILY g
  LEFT JOIN GOLD_ACTIVE_USERS a ON a.DAY BETWEEN ` + dateAdd(d, "day", -(gold.MAUDays-1), "g.DAY") + ` AND g.DAY
  LEFT JOIN (SELECT g1.DAY, COUNT(*) AS DAYS_COMPUTED FROM GOLD_DAILY g1
               JOIN GOLD_DAILY g2 ON g2.DAY BETWEEN ` + dateAdd(d, "day", -(gold.MAUDays-1), "g1.DAY") + ` AND g1.DAY
              GROUP BY g1.DAY) w ON w.DAY = g.DAY
 WHERE ` + pastYear(d, "g.DAY") + `
 GROUP BY g.DAY, g.DAU, w.DAYS_COMPUTED, g.INTERACTIONS, g.ACTIONS`
	})

	// GoldSessionStats: per computed day, the sessions, their average
	// duration (seconds) and actions per session (NULL on a day without
	// sessions), and the totals behind them.
	// Columns: DAY, SESSIONS, AVG_SESSION_SECONDS, AVG_ACTIONS_PER_SESSION,
	// USERS, ACTIONS, SESSIONS_PER_USER, TOTAL_SESSION_SECONDS,
	// MAX_SESSION_SECONDS.
	GoldSessionStats = dialectView("GOLD_SESSION_STATS", "Sessions: average duration and actions per session", func(d sqlmodel.Dialect) string {
		return `
SELECT DAY, SESSIONS, AVG_SESSION_SECONDS, AVG_ACTIONS_PER_SESSION, DAU AS USERS, ACTIONS,
       CAST(SESSIONS AS DOUBLE) / NULLIF(DAU, 0) AS SESSIONS_PER_USER, TOTAL_SESSION_SECONDS, MAX_SESSION_SECONDS
  FROM GOLD_DAILY
 WHERE ` + pastYear(d, "DAY")
	})
)

// Gold are the seed-002 views.
var Gold = []View{GoldDAUMAU, GoldSessionStats}
