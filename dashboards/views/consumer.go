package views

import (
	"fmt"

	"github.com/pulse-analytics/pulse/shared/marts"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// Seed 003: consumer events. The stream path writes ITEM_VIEW_EVENTS,
// CART_EVENTS (EVENT_NAME added_to_cart or checkout_to_cart),
// CONSUMER_EVENTS (registrations, sign-ins, sign-outs: the views read only
// EVENT_NAME sign_in and sign_out from it, so other rows there change
// nothing), CONSUMER_USERS, MOVIES (the catalog, latest row per ITEM_ID)
// and the metric tables. The marts' rules (purchases, segments and their
// thresholds) are stated in shared/marts.

// firstCheckouts: each cart's first checkout.
const firstCheckouts = `SELECT EVENT_ID, CART_ID, USER_ID, EVENT_TIME AS CHECKOUT_TIME, PAYMENT_METHOD
  FROM CART_EVENTS WHERE EVENT_NAME = 'checkout_to_cart'
QUALIFY ROW_NUMBER() OVER (PARTITION BY CART_ID ORDER BY EVENT_TIME, EVENT_ID) = 1`

var (
	// UserRegistrations (task 5): distinct registering users per 1-hour
	// tumbling window and per 1-hour window sliding every 15 minutes;
	// WINDOW_START is the seed's "timestamp".
	// Columns: WINDOW_TYPE, WINDOW_START, WINDOW_END, REGISTRATION_COUNT,
	// FINAL, UPDATED_AT.
	UserRegistrations = View{"USER_REGISTRATIONS", "User registrations per window", `
SELECT WINDOW_TYPE, WINDOW_START, WINDOW_END, REGISTRATION_COUNT, FINAL, UPDATED_AT FROM USER_REGISTRATION_METRICS`, nil}

	// SessionActivity (bonus): at each minute of event time, the signed-in
	// sessions and the mean sign-in to sign-out duration (seconds).
	// Columns: METRIC_TIME, ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION,
	// AVG_ACTIVE_AGE_SECONDS, COMPLETED_SESSIONS, TIMED_OUT_SESSIONS, UPDATED_AT.
	SessionActivity = View{"SESSION_ACTIVITY", "Active sessions and average session duration", `
SELECT METRIC_TIME, ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION, AVG_ACTIVE_AGE_SECONDS, COMPLETED_SESSIONS,
       TIMED_OUT_SESSIONS, UPDATED_AT FROM SESSION_METRICS`, nil}

	// MovieSales (task 6): sales per movie per daily and weekly window, with
	// the catalog title (NULL for a movie missing from MOVIES).
	// Columns: MOVIE_ID, TITLE, GENRE, WINDOW_TYPE, WINDOW_START, WINDOW_END,
	// TOTAL_SALES, PURCHASES, FINAL, UPDATED_AT.
	MovieSales = View{"MOVIE_SALES", "Movie sales per window", `
SELECT s.MOVIE_ID, m.TITLE, m.GENRE, s.WINDOW_TYPE, s.WINDOW_START, s.WINDOW_END, s.TOTAL_SALES, s.PURCHASES, s.FINAL,
       s.UPDATED_AT
  FROM MOVIE_SALES_METRICS s LEFT JOIN MOVIES m ON m.ITEM_ID = s.MOVIE_ID`, nil}

	// MartPurchases: one row per purchased cart item (shared/marts: a
	// cart's first checkout buys its items added at or before it).
	// Columns: CART_ID, CHECKOUT_EVENT_ID, ADD_EVENT_ID, USER_ID, ITEM_ID,
	// PRICE, CHECKOUT_TIME, DAY, PAYMENT_METHOD.
	MartPurchases = View{"MART_PURCHASES", "Purchased items", `
SELECT c.CART_ID, c.EVENT_ID AS CHECKOUT_EVENT_ID, a.EVENT_ID AS ADD_EVENT_ID, c.USER_ID, a.ITEM_ID, m.PRICE,
       c.CHECKOUT_TIME, CAST(c.CHECKOUT_TIME AS DATE) AS DAY, c.PAYMENT_METHOD
  FROM (` + firstCheckouts + `) c
  JOIN CART_EVENTS a ON a.CART_ID = c.CART_ID AND a.EVENT_NAME = 'added_to_cart' AND a.EVENT_TIME <= c.CHECKOUT_TIME
  LEFT JOIN MOVIES m ON m.ITEM_ID = a.ITEM_ID`, nil}

	// MartUserActivity: user activity over time, per user per UTC day:
	// items viewed, added to cart, carts checked out, items purchased and
	// their amount (catalog prices), sign-ins.
	// Columns: USER_ID, DAY, ITEMS_VIEWED, ITEMS_ADDED_TO_CART, CHECKOUTS,
	// ITEMS_PURCHASED, PURCHASE_AMOUNT, SIGN_INS.
	MartUserActivity = View{"MART_USER_ACTIVITY", "User activity over time", `
SELECT USER_ID, DAY, SUM(VIEWED) AS ITEMS_VIEWED, SUM(ADDED) AS ITEMS_ADDED_TO_CART, SUM(CHECKOUTS) AS CHECKOUTS,
       SUM(PURCHASED) AS ITEMS_PURCHASED, SUM(AMOUNT) AS PURCHASE_AMOUNT, SUM(SIGN_INS) AS SIGN_INS
  FROM (
    SELECT USER_ID, CAST(EVENT_TIME AS DATE) AS DAY, 1 AS VIEWED, 0 AS ADDED, 0 AS CHECKOUTS, 0 AS PURCHASED,
           CAST(0 AS DOUBLE) AS AMOUNT, 0 AS SIGN_INS FROM ITEM_VIEW_EVENTS
    UNION ALL
    SELECT USER_ID, CAST(EVENT_TIME AS DATE), 0, 1, 0, 0, CAST(0 AS DOUBLE), 0 FROM CART_EVENTS WHERE EVENT_NAME = 'added_to_cart'
    UNION ALL
    SELECT USER_ID, CAST(CHECKOUT_TIME AS DATE), 0, 0, 1, 0, CAST(0 AS DOUBLE), 0 FROM (` + firstCheckouts + `) c
    UNION ALL
    SELECT USER_ID, DAY, 0, 0, 0, 1, COALESCE(PRICE, 0), 0 FROM MART_PURCHASES
    UNION ALL
    SELECT USER_ID, CAST(EVENT_TIME AS DATE), 0, 0, 0, 0, CAST(0 AS DOUBLE), 1 FROM CONSUMER_EVENTS WHERE EVENT_NAME = 'sign_in'
  ) e
 GROUP BY USER_ID, DAY`, nil}

	// MartMovieStats: per catalog movie: views, distinct viewers, adds to
	// cart, purchases, total sales, the average price paid (NULL before the
	// first sale) and purchases per view.
	// Columns: ITEM_ID, TITLE, GENRE, PRICE, VIEWS, VIEWERS, ADDS_TO_CART,
	// PURCHASES, TOTAL_SALES, AVG_PRICE, PURCHASES_PER_VIEW.
	MartMovieStats = View{"MART_MOVIE_STATS", "Movie statistics", `
SELECT m.ITEM_ID, m.TITLE, m.GENRE, m.PRICE, COALESCE(v.VIEWS, 0) AS VIEWS, COALESCE(v.VIEWERS, 0) AS VIEWERS,
       COALESCE(a.ADDS, 0) AS ADDS_TO_CART, COALESCE(p.PURCHASES, 0) AS PURCHASES, COALESCE(p.SALES, 0) AS TOTAL_SALES,
       p.AVG_PRICE, CAST(COALESCE(p.PURCHASES, 0) AS DOUBLE) / NULLIF(v.VIEWS, 0) AS PURCHASES_PER_VIEW
  FROM MOVIES m
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS VIEWS, COUNT(DISTINCT USER_ID) AS VIEWERS FROM ITEM_VIEW_EVENTS GROUP BY ITEM_ID) v
         ON v.ITEM_ID = m.ITEM_ID
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS ADDS FROM CART_EVENTS WHERE EVENT_NAME = 'added_to_cart' GROUP BY ITEM_ID) a
         ON a.ITEM_ID = m.ITEM_ID
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS PURCHASES, SUM(PRICE) AS SALES, AVG(PRICE) AS AVG_PRICE FROM MART_PURCHASES GROUP BY ITEM_ID) p
         ON p.ITEM_ID = m.ITEM_ID`, nil}

	// MartUserSegments: every registered user with their totals and segment
	// (shared/marts: inactive, high_value, frequent_browser, regular). LAST_ACTIVE_AT is the user's newest view, cart
	// event, sign-in or sign-out; ACTIVITY_REFERENCE_AT the newest of anyone.
	// Columns: USER_ID, AGE, PREFERRED_LANGUAGE, REGISTERED_AT, ITEMS_VIEWED,
	// ITEMS_ADDED_TO_CART, CHECKOUTS, ITEMS_PURCHASED, TOTAL_SPENT,
	// LAST_ACTIVE_AT, ACTIVITY_REFERENCE_AT, SEGMENT.
	MartUserSegments = dialectView("MART_USER_SEGMENTS", "User segments", func(d sqlmodel.Dialect) string {
		return `
SELECT u.USER_ID, u.AGE, u.PREFERRED_LANGUAGE, u.REGISTERED_AT, COALESCE(t.VIEWED, 0) AS ITEMS_VIEWED,
       COALESCE(t.ADDED, 0) AS ITEMS_ADDED_TO_CART, COALESCE(t.CHECKOUTS, 0) AS CHECKOUTS,
       COALESCE(t.PURCHASED, 0) AS ITEMS_PURCHASED, COALESCE(t.SPENT, 0) AS TOTAL_SPENT, l.LAST_ACTIVE_AT,
       r.REFERENCE_AT AS ACTIVITY_REFERENCE_AT,
       CASE WHEN l.LAST_ACTIVE_AT IS NULL OR l.LAST_ACTIVE_AT < ` + dateAdd(d, "day", -marts.InactiveDays, "r.REFERENCE_AT") + ` THEN '` + marts.Inactive + `'
            WHEN COALESCE(t.SPENT, 0) >= ` + fmt.Sprintf("%.2f", marts.HighValueMinSpend) + ` THEN '` + marts.HighValue + `'
            WHEN COALESCE(t.VIEWED, 0) >= ` + fmt.Sprint(marts.FrequentBrowserMinViews) + ` THEN '` + marts.FrequentBrowser + `'
            ELSE '` + marts.Regular + `' END AS SEGMENT
  FROM CONSUMER_USERS u
  LEFT JOIN (SELECT USER_ID, SUM(ITEMS_VIEWED) AS VIEWED, SUM(ITEMS_ADDED_TO_CART) AS ADDED, SUM(CHECKOUTS) AS CHECKOUTS,
                    SUM(ITEMS_PURCHASED) AS PURCHASED, SUM(PURCHASE_AMOUNT) AS SPENT
               FROM MART_USER_ACTIVITY GROUP BY USER_ID) t ON t.USER_ID = u.USER_ID
  LEFT JOIN (SELECT USER_ID, MAX(EVENT_TIME) AS LAST_ACTIVE_AT FROM (` + activity + `) e GROUP BY USER_ID) l ON l.USER_ID = u.USER_ID
  CROSS JOIN (SELECT MAX(EVENT_TIME) AS REFERENCE_AT FROM (` + activity + `) e) r`
	})
)

// activity is every event that makes a user active.
const activity = `SELECT USER_ID, EVENT_TIME FROM ITEM_VIEW_EVENTS
    UNION ALL SELECT USER_ID, EVENT_TIME FROM CART_EVENTS
    UNION ALL SELECT USER_ID, EVENT_TIME FROM CONSUMER_EVENTS WHERE EVENT_NAME IN ('sign_in', 'sign_out')`

// Consumer are the seed-003 metric views and marts, in dependency order.
var Consumer = []View{UserRegistrations, SessionActivity, MovieSales, MartPurchases, MartUserActivity, MartMovieStats, MartUserSegments}
