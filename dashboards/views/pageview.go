package views

// Seed 004: page views. PAGEVIEWS holds one row per view event,
// CLEANED_USERS the users table without NULLs (latest row per user), and
// PAGEVIEW_WINDOW_METRICS the stream path's tumbling (1 min), hopping
// (1 min every 30 s) and session (30 s gap) windows per page source.

var (
	// PageviewsBySourceWindow: page views and distinct users per page
	// source (Homepage, Inbox, External) per window; WINDOW_TYPE is
	// tumbling, hopping or session. FINAL is false while a window is open.
	// Columns: WINDOW_TYPE, PAGE_SOURCE, WINDOW_START, WINDOW_END, PAGEVIEWS,
	// USERS, FINAL, UPDATED_AT.
	PageviewsBySourceWindow = View{"PAGEVIEWS_BY_SOURCE_WINDOW", "Page views by source per window", `
SELECT WINDOW_TYPE, PAGE_SOURCE, WINDOW_START, WINDOW_END, PAGEVIEWS, USERS, FINAL, UPDATED_AT
  FROM PAGEVIEW_WINDOW_METRICS`, nil}

	// PageviewUsersByCountry: topic 5 of seed 004, page views joined with
	// the cleaned users: per country, the distinct users who viewed pages,
	// their average age (each user counted once) and their page views.
	// Views by users missing from CLEANED_USERS are left out (as the seed's
	// inner join does).
	// Columns: COUNTRY, USERS, AVG_AGE, PAGEVIEWS.
	PageviewUsersByCountry = View{"PAGEVIEW_USERS_BY_COUNTRY", "Users and average age by country", `
SELECT u.COUNTRY, COUNT(*) AS USERS, AVG(CAST(u.AGE AS DOUBLE)) AS AVG_AGE, SUM(p.PAGEVIEWS) AS PAGEVIEWS
  FROM (SELECT USER_ID, COUNT(*) AS PAGEVIEWS FROM PAGEVIEWS GROUP BY USER_ID) p
  JOIN CLEANED_USERS u ON u.USER_ID = p.USER_ID
 GROUP BY u.COUNTRY`, nil}
)

// Pageview are the seed-004 views.
var Pageview = []View{PageviewsBySourceWindow, PageviewUsersByCountry}
