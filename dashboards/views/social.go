package views

// Seed 001: social-media sales. FACT_SOCIAL_SALES holds one row per
// cleaned event (Kota -> CITY, Sosial_Media -> PLATFORM, Usage_Count,
// Sales, Visitors, PageVisitors, Conversion, and the derived
// CONVERSION_RATE = Conversion/Visitors*100 and BOUNCE_RATE =
// PageVisitors/Visitors*100); SOCIAL_PLATFORM_METRICS holds the stream
// path's 5-minute tumbling windows per platform.
//
// "Users" of a city is the sum of Usage_Count, the seed's usage figure
// (its "Total Usage" is the same sum over everything). Ties for the top
// city go to the city name first in alphabetical order.

var (
	// SocialRatesByPlatform: the seed's "Average Conversion Rate" and
	// "Average Bounce Rate" tables: the mean of the per-event rates, per
	// platform; OVERALL_* are the rates of the summed counts.
	// Columns: PLATFORM, AVG_CONVERSION_RATE, AVG_BOUNCE_RATE, EVENTS,
	// VISITORS, PAGE_VISITORS, CONVERSIONS, SALES, OVERALL_CONVERSION_RATE,
	// OVERALL_BOUNCE_RATE.
	SocialRatesByPlatform = View{"SOCIAL_RATES_BY_PLATFORM", "Average conversion and bounce rate per platform", `
SELECT PLATFORM, AVG(CONVERSION_RATE) AS AVG_CONVERSION_RATE, AVG(BOUNCE_RATE) AS AVG_BOUNCE_RATE, COUNT(*) AS EVENTS,
       SUM(VISITORS) AS VISITORS, SUM(PAGE_VISITORS) AS PAGE_VISITORS, SUM(CONVERSION) AS CONVERSIONS, SUM(SALES) AS SALES,
       CAST(SUM(CONVERSION) AS DOUBLE) * 100 / NULLIF(SUM(VISITORS), 0) AS OVERALL_CONVERSION_RATE,
       CAST(SUM(PAGE_VISITORS) AS DOUBLE) * 100 / NULLIF(SUM(VISITORS), 0) AS OVERALL_BOUNCE_RATE
  FROM FACT_SOCIAL_SALES GROUP BY PLATFORM`, nil}

	// SocialTotalUsage: the seed's "Total Usage" and "Total Transaction",
	// always one row (zeros before any event).
	// Columns: TOTAL_USAGE, TOTAL_SALES, TOTAL_VISITORS, EVENTS, PLATFORMS,
	// CITIES, FIRST_EVENT_AT, LAST_EVENT_AT.
	SocialTotalUsage = View{"SOCIAL_TOTAL_USAGE", "Total usage", `
SELECT COALESCE(SUM(USAGE_COUNT), 0) AS TOTAL_USAGE, COALESCE(SUM(SALES), 0) AS TOTAL_SALES,
       COALESCE(SUM(VISITORS), 0) AS TOTAL_VISITORS, COUNT(*) AS EVENTS, COUNT(DISTINCT PLATFORM) AS PLATFORMS,
       COUNT(DISTINCT CITY) AS CITIES, MIN(EVENT_TIME) AS FIRST_EVENT_AT, MAX(EVENT_TIME) AS LAST_EVENT_AT
  FROM FACT_SOCIAL_SALES`, nil}

	// SocialVisitorsLast5Min: "which platform has the most visitors in 5
	// minutes": the newest 5-minute window in SOCIAL_PLATFORM_METRICS (the
	// greatest WINDOW_START of any platform, not the wall clock), one row per
	// platform with events in it, VISITOR_RANK 1 = most visitors. FINAL is
	// false while that window is still open (a live partial count).
	// Columns: PLATFORM, VISITORS, VISITOR_RANK, EVENTS, PAGE_VISITORS, SALES,
	// WINDOW_START, WINDOW_END, FINAL, UPDATED_AT.
	SocialVisitorsLast5Min = View{"SOCIAL_VISITORS_LAST_5_MIN", "Visitors per platform in the last 5 minutes", `
SELECT PLATFORM, VISITORS, RANK() OVER (ORDER BY VISITORS DESC) AS VISITOR_RANK, EVENTS, PAGE_VISITORS, SALES,
       WINDOW_START, WINDOW_END, FINAL, UPDATED_AT
  FROM SOCIAL_PLATFORM_METRICS
 WHERE WINDOW_START = (SELECT MAX(WINDOW_START) FROM SOCIAL_PLATFORM_METRICS)`, nil}

	// SocialTopCityByUsers: per platform, the city with the most users (sum
	// of Usage_Count).
	// Columns: PLATFORM, CITY, USERS, EVENTS.
	SocialTopCityByUsers = View{"SOCIAL_TOP_CITY_BY_USERS", "Top city per platform by users", `
SELECT PLATFORM, CITY, USERS, EVENTS FROM (
  SELECT PLATFORM, CITY, SUM(USAGE_COUNT) AS USERS, COUNT(*) AS EVENTS FROM FACT_SOCIAL_SALES GROUP BY PLATFORM, CITY
) c
QUALIFY ROW_NUMBER() OVER (PARTITION BY PLATFORM ORDER BY USERS DESC, CITY) = 1`, nil}

	// SocialTopCityBySales: per platform, the city with the most sales.
	// Columns: PLATFORM, CITY, SALES, EVENTS.
	SocialTopCityBySales = View{"SOCIAL_TOP_CITY_BY_SALES", "Top city per platform by sales", `
SELECT PLATFORM, CITY, SALES, EVENTS FROM (
  SELECT PLATFORM, CITY, SUM(SALES) AS SALES, COUNT(*) AS EVENTS FROM FACT_SOCIAL_SALES GROUP BY PLATFORM, CITY
) c
QUALIFY ROW_NUMBER() OVER (PARTITION BY PLATFORM ORDER BY SALES DESC, CITY) = 1`, nil}
)

// Social are the seed-001 views.
var Social = []View{SocialRatesByPlatform, SocialTotalUsage, SocialVisitorsLast5Min, SocialTopCityByUsers, SocialTopCityBySales}
