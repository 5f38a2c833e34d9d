package web

// Filter names, as the API and the page take them.
const (
	FilterPlatform = "platform"
	FilterAgeGroup = "age_group"
	FilterDate     = "date"
)

// allFilters in the order the page shows them.
var allFilters = []string{FilterPlatform, FilterAgeGroup, FilterDate}

// Group is a section of the dashboard page: the views one seed asks for.
type Group struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Note  string `json:"note"` // what the seed's own dashboard was
}

// Panel is one chart over one warehouse view. Everything but View, Title
// and Group is optional: the chart is derived from the view's columns
// (the first time column, else the first text column, is the category
// axis; numeric columns are the measures) and these fields override it.
// A field naming a column the view does not have is ignored.
type Panel struct {
	View  string // the view it reads, also the panel's id
	Title string
	Group string

	Chart    string   // "bar", "hbar" (horizontal bars), "line" or "kpi"; "" = derived
	Category string   // category-axis column
	Split    string   // a text column whose values become one series each
	Label    string   // a text column printed on each bar (e.g. the top city of a platform)
	Pick     string   // a text column the panel shows one value of at a time (a selector on the card)
	Measures []string // numeric columns shown together by default (the rest stay in the card's measure selector)
	Total    string   // an additive column whose sum is the card's headline figure
	Stack    bool     // stack the split series (only for additive measures)
	SortBy   string   // "value": categories by the first measure, largest first; "" = by category

	// Detail re-aggregates the view from the rows beneath it when a filter
	// applies to a column the view does not keep. Without Detail, filters
	// apply only to the view's own PLATFORM / AGE_GROUP / first time column
	// (exact, since in an aggregated view those are group keys).
	Detail *Detail
	// DateColumn overrides which column the date filter applies to directly.
	DateColumn string
}

// Detail is the named view's aggregation written over a detail relation
// that keeps the filter columns. With no filter it must give exactly the
// named view's rows (TestDetailEqualsView checks every panel).
type Detail struct {
	From    string // a detail view or a join, one row per record
	Where   string // a fixed condition the named view also applies ("" = none)
	Select  string // the view's select list over From, same column names in the same order
	GroupBy string
	// Columns of From each filter applies to; "" = that filter does not apply.
	Platform, AgeGroup, Time string
}

// Groups are the page's sections, in order.
var Groups = []Group{
	{"engagement", "User engagement", "Seed 000: six Metabase bar-chart dashboards over Snowflake views, refreshed every 60 s"},
	{"social", "Social media sales", "Seed 001: Grafana panels over the social_sales stream, refreshed every 5 s"},
	{"pageviews", "Page views", "Seed 004: Streamlit charts over windowed page views, refreshed every 15 s"},
	{"consumer", "Consumer events and movie sales", "Seed 003: registration, session and movie-sales metrics, and the dbt marts"},
	{"app", "Note-taking app", "Seed 002: the gold layer (DAU/MAU and sessions)"},
}

// engagement is V_ENGAGEMENT, the union of the three seed-000 facts with
// their dimensions (dashboards/views).
func engagement(sel, groupBy, where string) *Detail {
	return &Detail{From: "V_ENGAGEMENT", Where: where, Select: sel, GroupBy: groupBy,
		Platform: "PLATFORM", AgeGroup: "AGE_GROUP", Time: "EVENT_TIME"}
}

// factDetail joins a seed-000 fact to the dimensions the filters need.
func factDetail(fact, joins, sel, groupBy string) *Detail {
	return &Detail{
		From: fact + " f " + joins +
			" JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID",
		Select: sel, GroupBy: groupBy, Platform: "p.PLATFORM", AgeGroup: "u.AGE_GROUP", Time: "f.EVENT_TIME",
	}
}

const engagementMeasures = "COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT"

// Catalog is every panel Pulse knows, one per seed dashboard view. Panels
// whose view is not in the warehouse are left off the page.
var Catalog = []Panel{
	// Seed 000 (section 3.5).
	{View: "ENGAGEMENT_BY_PLATFORM", Title: "Engagement by platform", Group: "engagement",
		Category: "PLATFORM", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		Detail: engagement("PLATFORM, SOURCE, "+engagementMeasures, "PLATFORM, SOURCE", "")},
	{View: "COMMUNITY_TRENDS", Title: "Community trends: engagement by community", Group: "engagement",
		Chart: "hbar", Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "INTERACTIONS", SortBy: "value",
		Detail: factDetail("FACT_COMMUNITY_INTERACTIONS", "JOIN DIM_COMMUNITY c ON c.COMMUNITY_S_ID = f.COMMUNITY_S_ID",
			"c.COMMUNITY_NAME, COUNT(*) AS INTERACTIONS, SUM(f.COMMUNITY_ENGAGEMENT) AS TOTAL_ENGAGEMENT, "+
				"AVG(f.COMMUNITY_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.TOTAL_TIME_SPENT) AS TOTAL_TIME_SPENT", "c.COMMUNITY_NAME")},
	{View: "LIVE_ENGAGEMENT_BY_DEVICE", Title: "Live streaming: engagement by device type", Group: "engagement",
		Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "INTERACTIONS", SortBy: "value",
		Detail: factDetail("FACT_LIVE_STREAMING_INTERACTIONS", "JOIN DIM_DEVICE_TYPE d ON d.DEVICE_TYPE_ID = f.DEVICE_TYPE_ID",
			"d.DEVICE_TYPE, COUNT(*) AS INTERACTIONS, SUM(f.LIVE_ENGAGEMENT) AS TOTAL_ENGAGEMENT, "+
				"AVG(f.LIVE_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.VIEWER_COUNT) AS VIEWERS", "d.DEVICE_TYPE")},
	{View: "VIDEO_ENGAGEMENT_BY_WATCH_REASON", Title: "Video interactions: engagement by watch reason", Group: "engagement",
		Chart: "hbar", Measures: []string{"TOTAL_ENGAGEMENT"}, Total: "INTERACTIONS", SortBy: "value",
		Detail: factDetail("FACT_VIDEO_INTERACTIONS", "JOIN DIM_WATCH_REASON r ON r.WATCH_REASON_ID = f.WATCH_REASON_ID",
			"r.WATCH_REASON, COUNT(*) AS INTERACTIONS, SUM(f.ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(f.ENGAGEMENT) AS AVG_ENGAGEMENT, "+
				"AVG(f.PRODUCTIVITY_LOSS) AS AVG_PRODUCTIVITY_LOSS, AVG(f.ADDICTION_LEVEL) AS AVG_ADDICTION_LEVEL", "r.WATCH_REASON")},
	{View: "ENGAGEMENT_BY_HOUR", Title: "Time trends: engagement by hour", Group: "engagement",
		Chart: "bar", Category: "HOUR", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		Detail: engagement("HOUR, SOURCE, "+engagementMeasures, "HOUR, SOURCE", "HOUR IS NOT NULL")},
	{View: "ENGAGEMENT_BY_AGE_GROUP", Title: "Demographics: engagement by age group", Group: "engagement",
		Category: "AGE_GROUP", Split: "SOURCE", Measures: []string{"INTERACTIONS"}, Total: "INTERACTIONS", Stack: true,
		Detail: engagement("AGE_GROUP, SOURCE, "+engagementMeasures, "AGE_GROUP, SOURCE", "")},

	// Seed 001 (Grafana).
	{View: "SOCIAL_RATES_BY_PLATFORM", Title: "Average conversion and bounce rate by platform", Group: "social",
		Category: "PLATFORM", Measures: []string{"AVG_CONVERSION_RATE", "AVG_BOUNCE_RATE"}},
	{View: "SOCIAL_TOTAL_USAGE", Title: "Real-time total usage", Group: "social", Chart: "kpi", Total: "TOTAL_USAGE"},
	{View: "SOCIAL_VISITORS_LAST_5_MIN", Title: "Visitors per platform in the last 5 minutes", Group: "social",
		Category: "PLATFORM", Measures: []string{"VISITORS"}, Total: "VISITORS", SortBy: "value"},
	{View: "SOCIAL_TOP_CITY_BY_USERS", Title: "City with the most users, per platform", Group: "social",
		Category: "PLATFORM", Label: "CITY", Measures: []string{"USERS"}},
	{View: "SOCIAL_TOP_CITY_BY_SALES", Title: "City with the most sales, per platform", Group: "social",
		Category: "PLATFORM", Label: "CITY", Measures: []string{"SALES"}},

	// Seed 004 (Streamlit).
	{View: "PAGEVIEWS_BY_SOURCE_WINDOW", Title: "Users per page source, by window", Group: "pageviews",
		Chart: "line", Category: "WINDOW_START", Split: "PAGE_SOURCE", Pick: "WINDOW_TYPE", Measures: []string{"USERS"}},
	{View: "PAGEVIEW_USERS_BY_COUNTRY", Title: "Users and average age by country", Group: "pageviews",
		Category: "COUNTRY", Measures: []string{"USERS"}, Total: "USERS", SortBy: "value"},

	// Seed 003.
	{View: "USER_REGISTRATIONS", Title: "User registrations per window", Group: "consumer", Chart: "line", Pick: "WINDOW_TYPE"},
	{View: "SESSION_ACTIVITY", Title: "Active sessions and session duration", Group: "consumer", Chart: "line"},
	{View: "MOVIE_SALES", Title: "Movie sales", Group: "consumer", SortBy: "value"},
	{View: "MART_USER_ACTIVITY", Title: "Mart: user activity", Group: "consumer"},
	{View: "MART_MOVIE_STATS", Title: "Mart: movie statistics", Group: "consumer", SortBy: "value"},
	{View: "MART_USER_SEGMENTS", Title: "Mart: user segments", Group: "consumer"},

	// Seed 002 (gold layer).
	{View: "GOLD_DAU_MAU", Title: "Daily and monthly active users", Group: "app",
		Chart: "line", Category: "DAY", Measures: []string{"DAU", "MAU"}},
	{View: "GOLD_SESSION_STATS", Title: "Sessions per day", Group: "app",
		Chart: "line", Category: "DAY", Measures: []string{"SESSIONS"}, Total: "SESSIONS"},
}
