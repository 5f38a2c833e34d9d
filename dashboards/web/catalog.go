package web

import "fmt"

// Groups are the page's sections, in order. Each refreshes by itself at
// its seed's rate (RefreshSeconds) unless the user or Options.Refresh says
// otherwise.
var Groups = []Group{
	{ID: "engagement", Title: "User engagement", Note: "Seed 000: six Metabase bar-chart dashboards over Snowflake views",
		RefreshSeconds: 60, RefreshNote: "seed 000's Metabase dashboards refresh every 60 s"},
	{ID: "social", Title: "Social media sales", Note: "Seed 001: Grafana panels over the social_sales stream",
		RefreshSeconds: 5, RefreshNote: "seed 001's Grafana panels refresh every 5 s"},
	{ID: "pageviews", Title: "Page views", Note: "Seed 004: Streamlit charts over windowed page views",
		RefreshSeconds: 15, RefreshNote: "seed 004's Streamlit charts fetch every 15 s"},
	{ID: "consumer", Title: "Consumer events and movie sales", Note: "Seed 003: registration, session and movie-sales metrics, and the dbt marts",
		RefreshSeconds: 60, RefreshNote: "seed 003 names no rate: the page's default, 60 s"},
	{ID: "app", Title: "Note-taking app", Note: "Seed 002: the gold layer (DAU/MAU and sessions)",
		RefreshSeconds: 60, RefreshNote: "seed 002's gold layer is recomputed by a daily job: the page's default, 60 s"},
}

// engagement is a seed-000 view's aggregation over V_ENGAGEMENT, the union
// of the three engagement facts with their dimensions (dashboards/views).
func engagement(sel, groupBy, where string) *Detail {
	if where != "" {
		where += " AND "
	}
	return &Detail{From: "V_ENGAGEMENT", SQL: "SELECT " + sel + " FROM V_ENGAGEMENT WHERE " + where +
		"@platform(PLATFORM) AND @age_group(AGE_GROUP) AND @date(EVENT_TIME) GROUP BY " + groupBy}
}

// factDetail is a seed-000 view's aggregation over its fact joined to the
// dimensions the filters need.
func factDetail(fact, joins, sel, groupBy string) *Detail {
	return &Detail{From: fact, SQL: "SELECT " + sel + " FROM " + fact + " f " + joins +
		" JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID" +
		" WHERE @platform(p.PLATFORM) AND @age_group(u.AGE_GROUP) AND @date(f.EVENT_TIME) GROUP BY " + groupBy}
}

// social is a seed-001 view's aggregation over FACT_SOCIAL_SALES (one row
// per cleaned social_sales event).
func social(sql string) *Detail { return &Detail{From: "FACT_SOCIAL_SALES", SQL: sql} }

// Axis units and weights the seed 000 panels share. Engagement is each
// source's own measure (dashboards/views): totals and averages of it are
// drawn on one axis per source.
var (
	engagementUnits   = map[string]string{"TOTAL_ENGAGEMENT": "engagement score", "AVG_ENGAGEMENT": "score per interaction"}
	engagementWeights = map[string]string{"AVG_ENGAGEMENT": "INTERACTIONS"}
	ownScale          = []string{"TOTAL_ENGAGEMENT", "AVG_ENGAGEMENT"}
)

// with returns m with more entries (a copy).
func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

const (
	engagementMeasures = "COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT"
	socialWhere        = " WHERE @platform(PLATFORM) AND @date(EVENT_TIME)"
	// topCity is SOCIAL_TOP_CITY_BY_USERS / _BY_SALES over FACT_SOCIAL_SALES.
	topCity = `SELECT PLATFORM, CITY, %[1]s, EVENTS FROM (
  SELECT PLATFORM, CITY, %[2]s AS %[1]s, COUNT(*) AS EVENTS FROM FACT_SOCIAL_SALES` + socialWhere + ` GROUP BY PLATFORM, CITY
) c
QUALIFY ROW_NUMBER() OVER (PARTITION BY PLATFORM ORDER BY %[1]s DESC, CITY) = 1`
)

// Catalog is every panel Pulse knows, one per seed dashboard view, each
// checked against the view's real columns (their list is in the view's doc
// comment in dashboards/views). Panels whose view is not in the warehouse
// are left off the page.
var Catalog = []Panel{
	// Seed 000 (section 3.5).
	{View: "ENGAGEMENT_BY_PLATFORM", Title: "Engagement by platform", Group: "engagement",
		Category: "PLATFORM", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		AxisUnits: engagementUnits, Weights: engagementWeights, SplitScale: ownScale,
		Detail: engagement("PLATFORM, SOURCE, "+engagementMeasures, "PLATFORM, SOURCE", "")},
	{View: "COMMUNITY_TRENDS", Title: "Community trends: engagement by community", Group: "engagement",
		Chart: "hbar", Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "TOTAL_ENGAGEMENT", SortBy: "value",
		AxisUnits: with(engagementUnits, "TOTAL_TIME_SPENT", "source's time unit"), Weights: engagementWeights,
		Names: map[string]string{"COMMUNITY_NAME": "Community"},
		Detail: factDetail("FACT_COMMUNITY_INTERACTIONS", "JOIN DIM_COMMUNITY c ON c.COMMUNITY_S_ID = f.COMMUNITY_S_ID",
			"c.COMMUNITY_NAME, COUNT(*) AS INTERACTIONS, SUM(f.COMMUNITY_ENGAGEMENT) AS TOTAL_ENGAGEMENT, "+
				"AVG(f.COMMUNITY_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.TOTAL_TIME_SPENT) AS TOTAL_TIME_SPENT", "c.COMMUNITY_NAME")},
	{View: "LIVE_ENGAGEMENT_BY_DEVICE", Title: "Live streaming: engagement by device type", Group: "engagement",
		Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "TOTAL_ENGAGEMENT", SortBy: "value",
		AxisUnits: engagementUnits, Weights: engagementWeights,
		Detail: factDetail("FACT_LIVE_STREAMING_INTERACTIONS", "JOIN DIM_DEVICE_TYPE d ON d.DEVICE_TYPE_ID = f.DEVICE_TYPE_ID",
			"d.DEVICE_TYPE, COUNT(*) AS INTERACTIONS, SUM(f.LIVE_ENGAGEMENT) AS TOTAL_ENGAGEMENT, "+
				"AVG(f.LIVE_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.VIEWER_COUNT) AS VIEWERS", "d.DEVICE_TYPE")},
	{View: "VIDEO_ENGAGEMENT_BY_WATCH_REASON", Title: "Video interactions: engagement by watch reason", Group: "engagement",
		Chart: "hbar", Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "TOTAL_ENGAGEMENT", SortBy: "value",
		AxisUnits: with(engagementUnits, "AVG_PRODUCTIVITY_LOSS", "0-10 scale", "AVG_ADDICTION_LEVEL", "0-10 scale"),
		Weights:   with(engagementWeights, "AVG_PRODUCTIVITY_LOSS", "INTERACTIONS", "AVG_ADDICTION_LEVEL", "INTERACTIONS"),
		Note:      "Batch video files carry no event time (the Time-Wasters shape): a date range leaves them out.",
		Detail: factDetail("FACT_VIDEO_INTERACTIONS", "JOIN DIM_WATCH_REASON r ON r.WATCH_REASON_ID = f.WATCH_REASON_ID",
			"r.WATCH_REASON, COUNT(*) AS INTERACTIONS, SUM(f.ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(f.ENGAGEMENT) AS AVG_ENGAGEMENT, "+
				"AVG(f.PRODUCTIVITY_LOSS) AS AVG_PRODUCTIVITY_LOSS, AVG(f.ADDICTION_LEVEL) AS AVG_ADDICTION_LEVEL", "r.WATCH_REASON")},
	{View: "ENGAGEMENT_BY_HOUR", Title: "Time trends: engagement by hour of day", Group: "engagement",
		Chart: "bar", Category: "HOUR", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		AxisUnits: with(engagementUnits, "HOUR", "0-23"), Weights: engagementWeights, SplitScale: ownScale,
		Names:  map[string]string{"HOUR": "Hour of day"},
		Note:   "The hour of the watch time as the files record it (live streaming, video) or of the event time in UTC (community).",
		Detail: engagement("HOUR, SOURCE, "+engagementMeasures, "HOUR, SOURCE", "HOUR IS NOT NULL")},
	{View: "ENGAGEMENT_BY_AGE_GROUP", Title: "Demographics: engagement by age group", Group: "engagement",
		Category: "AGE_GROUP", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		AxisUnits: with(engagementUnits, "AGE_GROUP", "years"), Weights: engagementWeights, SplitScale: ownScale,
		Detail: engagement("AGE_GROUP, SOURCE, "+engagementMeasures, "AGE_GROUP, SOURCE", "")},

	// Seed 001 (Grafana). Every panel re-aggregates FACT_SOCIAL_SALES (or,
	// for the 5-minute panel, SOCIAL_PLATFORM_METRICS) under a filter.
	{View: "SOCIAL_RATES_BY_PLATFORM", Title: "Average conversion and bounce rate by platform", Group: "social",
		Category: "PLATFORM", Measures: []string{"AVG_CONVERSION_RATE", "AVG_BOUNCE_RATE"}, Total: "AVG_CONVERSION_RATE", SortBy: "value",
		Weights: map[string]string{"AVG_CONVERSION_RATE": "EVENTS", "AVG_BOUNCE_RATE": "EVENTS",
			"OVERALL_CONVERSION_RATE": "VISITORS", "OVERALL_BOUNCE_RATE": "VISITORS"},
		Units: map[string]string{"AVG_CONVERSION_RATE": UnitPercent, "AVG_BOUNCE_RATE": UnitPercent,
			"OVERALL_CONVERSION_RATE": UnitPercent, "OVERALL_BOUNCE_RATE": UnitPercent},
		Names: map[string]string{"AVG_CONVERSION_RATE": "Avg. conversion rate", "AVG_BOUNCE_RATE": "Avg. bounce rate",
			"OVERALL_CONVERSION_RATE": "Conversions / visitors", "OVERALL_BOUNCE_RATE": "Page visitors / visitors", "SALES": "Transactions"},
		Detail: social(`SELECT PLATFORM, AVG(CONVERSION_RATE) AS AVG_CONVERSION_RATE, AVG(BOUNCE_RATE) AS AVG_BOUNCE_RATE, COUNT(*) AS EVENTS,
       SUM(VISITORS) AS VISITORS, SUM(PAGE_VISITORS) AS PAGE_VISITORS, SUM(CONVERSION) AS CONVERSIONS, SUM(SALES) AS SALES,
       CAST(SUM(CONVERSION) AS DOUBLE) * 100 / NULLIF(SUM(VISITORS), 0) AS OVERALL_CONVERSION_RATE,
       CAST(SUM(PAGE_VISITORS) AS DOUBLE) * 100 / NULLIF(SUM(VISITORS), 0) AS OVERALL_BOUNCE_RATE
  FROM FACT_SOCIAL_SALES` + socialWhere + ` GROUP BY PLATFORM`)},
	{View: "SOCIAL_TOTAL_USAGE", Title: "Real-time total usage", Group: "social", Chart: "kpi", Total: "TOTAL_USAGE",
		Measures: []string{"TOTAL_SALES", "TOTAL_VISITORS", "EVENTS"},
		Names:    map[string]string{"TOTAL_USAGE": "Total usage", "TOTAL_SALES": "Total transactions", "TOTAL_VISITORS": "Visitors"},
		Detail: social(`SELECT COALESCE(SUM(USAGE_COUNT), 0) AS TOTAL_USAGE, COALESCE(SUM(SALES), 0) AS TOTAL_SALES,
       COALESCE(SUM(VISITORS), 0) AS TOTAL_VISITORS, COUNT(*) AS EVENTS, COUNT(DISTINCT PLATFORM) AS PLATFORMS,
       COUNT(DISTINCT CITY) AS CITIES, MIN(EVENT_TIME) AS FIRST_EVENT_AT, MAX(EVENT_TIME) AS LAST_EVENT_AT
  FROM FACT_SOCIAL_SALES` + socialWhere)},
	{View: "SOCIAL_VISITORS_LAST_5_MIN", Title: "Which platform has the most visitors in 5 minutes?", Group: "social",
		Chart: "hbar", Category: "PLATFORM", Measures: []string{"VISITORS"}, Total: "VISITORS", Headline: HeadlineTop, SortBy: "value",
		AxisUnits: map[string]string{"VISITOR_RANK": "1 = most visitors"},
		Note: "The newest 5-minute window of the stream, not the wall clock. With a date range: the newest window " +
			"that starts in it. A platform filter keeps that platform's row of the window (its rank stays among all platforms).",
		Detail: &Detail{From: "SOCIAL_PLATFORM_METRICS", SQL: `SELECT * FROM (
SELECT PLATFORM, VISITORS, RANK() OVER (ORDER BY VISITORS DESC) AS VISITOR_RANK, EVENTS, PAGE_VISITORS, SALES,
       WINDOW_START, WINDOW_END, FINAL, UPDATED_AT
  FROM SOCIAL_PLATFORM_METRICS
 WHERE WINDOW_START = (SELECT MAX(WINDOW_START) FROM SOCIAL_PLATFORM_METRICS WHERE @date(WINDOW_START))
) w WHERE @platform(PLATFORM)`}},
	{View: "SOCIAL_TOP_CITY_BY_USERS", Title: "Which city has the most users, per platform?", Group: "social",
		Chart: "hbar", Category: "PLATFORM", Label: "CITY", Measures: []string{"USERS"}, SortBy: "value",
		Note:   "Users = the sum of Usage_Count, the seed's usage figure.",
		Detail: social(fmt.Sprintf(topCity, "USERS", "SUM(USAGE_COUNT)"))},
	{View: "SOCIAL_TOP_CITY_BY_SALES", Title: "Which city has the most sales, per platform?", Group: "social",
		Chart: "hbar", Category: "PLATFORM", Label: "CITY", Measures: []string{"SALES"}, SortBy: "value",
		Detail: social(fmt.Sprintf(topCity, "SALES", "SUM(SALES)"))},

	// Seed 004 (Streamlit).
	{View: "PAGEVIEWS_BY_SOURCE_WINDOW", Title: "Users per page source, by window", Group: "pageviews",
		Chart: "line", Category: "WINDOW_START", Split: "PAGE_SOURCE", Pick: "WINDOW_TYPE", PickDefault: "tumbling", Measures: []string{"USERS"},
		ZoomMinutes: 60, Names: map[string]string{"WINDOW_START": "Window start"},
		Note: "Distinct users per window: tumbling 1 min, hopping 1 min every 30 s, session (30 s gap); the newest " +
			"hour first (the slider shows the rest). The date range applies to the window start."},
	{View: "PAGEVIEW_USERS_BY_COUNTRY", Title: "Users and average age by country", Group: "pageviews",
		Chart: "hbar", Category: "COUNTRY", Label: "AVG_AGE", LabelFormat: "avg age {v}", Measures: []string{"USERS"}, Total: "USERS",
		SortBy: "value", Names: map[string]string{"AVG_AGE": "Avg. age"}, AxisUnits: map[string]string{"AVG_AGE": "years"},
		Weights: map[string]string{"AVG_AGE": "USERS"},
		Note:    "Page views joined with the cleaned users. The date range applies to the page views, the age group to the users.",
		Detail: &Detail{From: "PAGEVIEWS", SQL: `SELECT u.COUNTRY, COUNT(*) AS USERS, AVG(CAST(u.AGE AS DOUBLE)) AS AVG_AGE, SUM(p.PAGEVIEWS) AS PAGEVIEWS
  FROM (SELECT USER_ID, COUNT(*) AS PAGEVIEWS FROM PAGEVIEWS WHERE @date(EVENT_TIME) GROUP BY USER_ID) p
  JOIN CLEANED_USERS u ON u.USER_ID = p.USER_ID
 WHERE @age_group(` + ageGroupOf("u.AGE") + `)
 GROUP BY u.COUNTRY`}},

	// Seed 003.
	{View: "USER_REGISTRATIONS", Title: "User registrations per hour", Group: "consumer",
		Chart: "bar", Category: "WINDOW_START", Pick: "WINDOW_TYPE", PickDefault: "tumbling", Measures: []string{"REGISTRATION_COUNT"},
		Names: map[string]string{"REGISTRATION_COUNT": "Registrations", "WINDOW_START": "Window start"},
		Note: "Distinct registering users per 1-hour window: tumbling, or sliding every 15 minutes (each registration " +
			"counts in four sliding windows). The date range applies to the window start."},
	{View: "SESSION_ACTIVITY", Title: "Active sessions and average session duration", Group: "consumer",
		Chart: "line", Category: "METRIC_TIME", Measures: []string{"ACTIVE_SESSIONS_COUNT", "AVERAGE_SESSION_DURATION"},
		Total: "ACTIVE_SESSIONS_COUNT", Headline: HeadlineLatest,
		Units: map[string]string{"AVERAGE_SESSION_DURATION": UnitSeconds},
		Names: map[string]string{"METRIC_TIME": "Minute", "ACTIVE_SESSIONS_COUNT": "Active sessions", "AVERAGE_SESSION_DURATION": "Avg. session duration",
			"AVG_ACTIVE_AGE_SECONDS": "Avg. age of active sessions"},
		Note: "Each minute of event time: sessions signed in and not out, and the mean sign-in to sign-out duration of " +
			"the sessions ended so far (0 before the first sign-out).",
		EmptyNote: "A minute is written once the sign-in and sign-out topics' watermarks (the newest event time minus the " +
			"5-minute allowed lateness) have passed it: the first rows appear about 5 minutes after the stream starts."},
	{View: "MOVIE_SALES", Title: "Movie sales per day or week, by genre", Group: "consumer",
		Chart: "bar", Category: "WINDOW_START", Split: "GENRE", Stack: true, Pick: "WINDOW_TYPE", PickDefault: "daily",
		Measures: []string{"TOTAL_SALES"}, Total: "TOTAL_SALES", Units: map[string]string{"TOTAL_SALES": UnitUSD},
		Names: map[string]string{"WINDOW_START": "Window start"},
		EmptyNote: "Checkouts wait until the added_to_cart topic's watermark (the newest event time minus the 5-minute " +
			"allowed lateness) has passed them, so every cart addition before them is in: the first rows appear about " +
			"5 minutes after the stream starts. MART_MOVIE_STATS below has the sales so far.",
		Note: "Checkouts priced from the catalog, per daily or weekly window (UTC), stacked by the movies' genres; " +
			"MART_MOVIE_STATS below has them per movie. The date range applies to the window start."},
	{View: "MART_USER_ACTIVITY", Title: "Mart: user activity per day", Group: "consumer",
		Chart: "bar", Category: "DAY", Measures: []string{"ITEMS_VIEWED", "ITEMS_ADDED_TO_CART", "ITEMS_PURCHASED"},
		Total: "ITEMS_PURCHASED", Units: map[string]string{"PURCHASE_AMOUNT": UnitUSD},
		Rollup: `SELECT DAY, COUNT(*) AS ACTIVE_USERS, SUM(SIGN_INS) AS SIGN_INS, SUM(ITEMS_VIEWED) AS ITEMS_VIEWED,
       SUM(ITEMS_ADDED_TO_CART) AS ITEMS_ADDED_TO_CART, SUM(CHECKOUTS) AS CHECKOUTS, SUM(ITEMS_PURCHASED) AS ITEMS_PURCHASED,
       SUM(PURCHASE_AMOUNT) AS PURCHASE_AMOUNT
  FROM @rows GROUP BY DAY`,
		Note: "MART_USER_ACTIVITY (one row per user and UTC day) summed per day."},
	{View: "MART_MOVIE_STATS", Title: "Mart: movie statistics", Group: "consumer",
		Chart: "hbar", Category: "TITLE", Label: "PURCHASES", LabelFormat: "{v} purchases", Measures: []string{"TOTAL_SALES"}, Total: "TOTAL_SALES",
		SortBy: "value", Limit: 12,
		Units:   map[string]string{"TOTAL_SALES": UnitUSD, "PRICE": UnitUSD, "AVG_PRICE": UnitUSD, "PURCHASES_PER_VIEW": UnitRatio},
		Weights: map[string]string{"AVG_PRICE": "PURCHASES", "PURCHASES_PER_VIEW": "VIEWS"},
		Names:   map[string]string{"TITLE": "Movie"},
		Note:    "Per catalog movie. The date range applies to the views, adds to cart and checkouts counted.",
		Detail: &Detail{From: "ITEM_VIEW_EVENTS, CART_EVENTS and MART_PURCHASES", SQL: `SELECT m.ITEM_ID, m.TITLE, m.GENRE, m.PRICE,
       COALESCE(v.VIEWS, 0) AS VIEWS, COALESCE(v.VIEWERS, 0) AS VIEWERS,
       COALESCE(a.ADDS, 0) AS ADDS_TO_CART, COALESCE(p.PURCHASES, 0) AS PURCHASES, COALESCE(p.SALES, 0) AS TOTAL_SALES,
       p.AVG_PRICE, CAST(COALESCE(p.PURCHASES, 0) AS DOUBLE) / NULLIF(v.VIEWS, 0) AS PURCHASES_PER_VIEW
  FROM MOVIES m
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS VIEWS, COUNT(DISTINCT USER_ID) AS VIEWERS FROM ITEM_VIEW_EVENTS
              WHERE @date(EVENT_TIME) GROUP BY ITEM_ID) v ON v.ITEM_ID = m.ITEM_ID
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS ADDS FROM CART_EVENTS WHERE EVENT_NAME = 'added_to_cart' AND @date(EVENT_TIME)
              GROUP BY ITEM_ID) a ON a.ITEM_ID = m.ITEM_ID
  LEFT JOIN (SELECT ITEM_ID, COUNT(*) AS PURCHASES, SUM(PRICE) AS SALES, AVG(PRICE) AS AVG_PRICE FROM MART_PURCHASES
              WHERE @date(CHECKOUT_TIME) GROUP BY ITEM_ID) p ON p.ITEM_ID = m.ITEM_ID`}},
	{View: "MART_USER_SEGMENTS", Title: "Mart: user segments", Group: "consumer",
		Chart: "bar", Category: "SEGMENT", Measures: []string{"USERS"}, Total: "USERS", SortBy: "value",
		AgeColumn: "AGE", DateColumn: "REGISTERED_AT",
		Units:     map[string]string{"TOTAL_SPENT": UnitUSD, "AVG_SPENT": UnitUSD},
		AxisUnits: map[string]string{"AVG_AGE": "years"}, Weights: map[string]string{"AVG_AGE": "USERS", "AVG_SPENT": "USERS"},
		Rollup: `SELECT SEGMENT, COUNT(*) AS USERS, AVG(CAST(AGE AS DOUBLE)) AS AVG_AGE, SUM(ITEMS_VIEWED) AS ITEMS_VIEWED,
       SUM(ITEMS_PURCHASED) AS ITEMS_PURCHASED, SUM(TOTAL_SPENT) AS TOTAL_SPENT, AVG(TOTAL_SPENT) AS AVG_SPENT
  FROM @rows GROUP BY SEGMENT`,
		Note: "Registered users by segment (inactive: nothing in the 30 days before the newest event; high value: " +
			"spent $50 or more; frequent browser: 10+ item views). The date range selects users by registration time."},

	// Seed 002 (gold layer).
	{View: "GOLD_DAU_MAU", Title: "Daily, weekly and monthly active users", Group: "app",
		Chart: "line", Category: "DAY", Measures: []string{"DAU", "WAU", "MAU"}, Total: "DAU_MAU_RATIO", Headline: HeadlineLatest,
		Units: map[string]string{"DAU_MAU_RATIO": UnitRatio}, Names: map[string]string{"DAU_MAU_RATIO": "DAU/MAU", "DAU": "DAU", "WAU": "WAU", "MAU": "MAU"},
		AxisUnits: map[string]string{"DAU": "users", "WAU": "users", "MAU": "users", "MAU_DAYS_COMPUTED": "days"},
		Note: "MAU: distinct active users in the 30 days ending that day (rolling). At the start of the data fewer " +
			"of those days exist (MAU days computed)."},
	{View: "GOLD_SESSION_STATS", Title: "Sessions: average duration and actions per session", Group: "app",
		Chart: "bar", Category: "DAY", Measures: []string{"AVG_SESSION_SECONDS", "AVG_ACTIONS_PER_SESSION"}, Total: "AVG_SESSION_SECONDS",
		Weights:   map[string]string{"AVG_SESSION_SECONDS": "SESSIONS", "AVG_ACTIONS_PER_SESSION": "SESSIONS", "SESSIONS_PER_USER": "USERS"},
		AxisUnits: map[string]string{"AVG_ACTIONS_PER_SESSION": "actions", "SESSIONS_PER_USER": "sessions"},
		Names:     map[string]string{"AVG_SESSION_SECONDS": "Avg. session duration", "AVG_ACTIONS_PER_SESSION": "Actions per session"},
		Note:      "A session ends at a 30-minute gap or at UTC midnight."},
}
