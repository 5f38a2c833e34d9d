package star

// Stream tables: the sources that arrive on MSK topics (seeds 001, 003,
// 004). Each is a fact-like table keyed by an MD5 of the record's natural
// key, or a snapshot table keyed by its natural key.
var (
	FactSocialSales = schema("FACT_SOCIAL_SALES", "SALE_ID",
		"SALE_ID", s, "RECORD_ID", s, "CITY", s, "PLATFORM_ID", s, "PLATFORM", s, "USAGE_COUNT", i, "SALES", f,
		"VISITORS", i, "PAGE_VISITORS", i, "CONVERSION", i, "CONVERSION_RATE", f, "BOUNCE_RATE", f,
		"EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	ConsumerEvents = schema("CONSUMER_EVENTS", "EVENT_ID",
		"EVENT_ID", s, "EVENT_NAME", s, "USER_ID", i, "EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	ConsumerUsers = schema("CONSUMER_USERS", "USER_ID",
		"USER_ID", i, "AGE", i, "MASKED_EMAIL", s, "PREFERRED_LANGUAGE", s, "REGISTERED_AT", ts)
	ItemViewEvents = schema("ITEM_VIEW_EVENTS", "EVENT_ID",
		"EVENT_ID", s, "USER_ID", i, "ITEM_ID", s, "EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	CartEvents = schema("CART_EVENTS", "EVENT_ID",
		"EVENT_ID", s, "EVENT_NAME", s, "USER_ID", i, "CART_ID", s, "ITEM_ID", s, "PAYMENT_METHOD", s,
		"EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	Movies = schema("MOVIES", "ITEM_ID",
		"ITEM_ID", s, "TITLE", s, "GENRE", s, "PRICE", f, "PRICE_CENTS", i, "CURRENCY", s, "PRICE_DISPLAY", s,
		"LIST_PRICE_RAW", s, "INGESTION_TIMESTAMP", ts)
	Pageviews = schema("PAGEVIEWS", "PAGEVIEW_ID",
		"PAGEVIEW_ID", s, "SESSION_ID", s, "USER_ID", s, "PAGE_SOURCE", s, "EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s,
		"COUNTRY", s, "AGE", i) // COUNTRY, AGE: the user's CLEANED_USERS row when the view was processed (stream-table join), NULL if none
	UserSessions = schema("USER_SESSIONS", "SESSION_ID",
		"SESSION_ID", s, "USER_ID", s, "USER_NAME", s, "LOGIN_TIME", ts, "DEVICE", s, "INGESTION_TIMESTAMP", ts)
	CleanedUsers = schema("CLEANED_USERS", "USER_ID",
		"USER_ID", s, "AGE", i, "GENDER", s, "COUNTRY", s, "SUBSCRIPTION", s, "INGESTION_TIMESTAMP", ts)
)

// Stream metric tables: what the window engine and the session tracker
// emit (DESIGN.md 4.3). A windowed row is keyed by METRIC_ID =
// md5(assigner|group key|window start) so a re-emitted window (a partial
// result superseded by the final one, or a redelivered batch) replaces its
// row. FINAL is false while the window is still open (a live partial).
var (
	// UserRegistrationMetrics (seed 003 task 5): distinct registering users
	// per 1 h tumbling window and per 1 h window sliding every 15 min.
	// TIMESTAMP, WINDOW_TYPE and REGISTRATION_COUNT are the seed's columns;
	// TIMESTAMP is the window's start (WINDOW_START, kept beside it).
	UserRegistrationMetrics = schema("USER_REGISTRATION_METRICS", "METRIC_ID",
		"METRIC_ID", s, "WINDOW_TYPE", s, "WINDOW_START", ts, "WINDOW_END", ts, "REGISTRATION_COUNT", i,
		"FINAL", b, "UPDATED_AT", ts, "TIMESTAMP", ts)
	// SessionMetrics (seed 003 bonus): at each minute of event time, the
	// sessions signed in and not out, and the mean sign-in to sign-out
	// duration in seconds. TIMESTAMP, ACTIVE_SESSIONS_COUNT and
	// AVERAGE_SESSION_DURATION are the seed's columns; TIMESTAMP is the
	// minute (METRIC_TIME, the key, kept beside it); a row
	// describes that instant with the sign-ins and sign-outs at it applied
	// (signed in at 10:02:00: active at 10:02; signed out at 10:02:00: not).
	SessionMetrics = schema("SESSION_METRICS", "METRIC_TIME",
		"METRIC_TIME", ts, "ACTIVE_SESSIONS_COUNT", i, "AVERAGE_SESSION_DURATION", f, "AVG_ACTIVE_AGE_SECONDS", f,
		"COMPLETED_SESSIONS", i, "TIMED_OUT_SESSIONS", i, "UPDATED_AT", ts, "ORPHAN_SIGN_OUTS", i, "TIMESTAMP", ts)
	// MovieSalesMetrics (seed 003 task 6): checkouts priced from the
	// catalog, per movie per daily and weekly window. MOVIE_ID, TOTAL_SALES
	// and TIMESTAMP are the seed's columns; TIMESTAMP is the window's start.
	MovieSalesMetrics = schema("MOVIE_SALES_METRICS", "METRIC_ID",
		"METRIC_ID", s, "MOVIE_ID", s, "WINDOW_TYPE", s, "WINDOW_START", ts, "WINDOW_END", ts, "TOTAL_SALES", f,
		"PURCHASES", i, "FINAL", b, "UPDATED_AT", ts, "TIMESTAMP", ts)
	// SocialPlatformMetrics (seed 001): per platform per 5-minute tumbling
	// window, visitors and the mean conversion and bounce rates.
	SocialPlatformMetrics = schema("SOCIAL_PLATFORM_METRICS", "METRIC_ID",
		"METRIC_ID", s, "PLATFORM", s, "WINDOW_START", ts, "WINDOW_END", ts, "EVENTS", i, "VISITORS", i,
		"PAGE_VISITORS", i, "SALES", f, "USAGE_COUNT", i, "AVG_CONVERSION_RATE", f, "AVG_BOUNCE_RATE", f,
		"FINAL", b, "UPDATED_AT", ts,
		// The city with the most users (sum of Usage_Count) and with the most
		// sales on this platform in this window; set on final rows, NULL on partials.
		"TOP_CITY_BY_USERS", s, "TOP_CITY_USERS", i, "TOP_CITY_BY_SALES", s, "TOP_CITY_SALES", f)
	// PageviewWindowMetrics (seed 004 topics 6-8): page views and distinct
	// users per page source in tumbling (1 min), hopping (1 min every 30 s)
	// and session (gap 30 s) windows; WINDOW_TYPE says which.
	PageviewWindowMetrics = schema("PAGEVIEW_WINDOW_METRICS", "METRIC_ID",
		"METRIC_ID", s, "WINDOW_TYPE", s, "PAGE_SOURCE", s, "WINDOW_START", ts, "WINDOW_END", ts, "PAGEVIEWS", i,
		"USERS", i, "FINAL", b, "UPDATED_AT", ts)
	// SocialCityMetrics (seed 001): the same 5-minute windows per platform
	// and city, for "which city has the most users / sales" over any range.
	SocialCityMetrics = schema("SOCIAL_CITY_METRICS", "METRIC_ID",
		"METRIC_ID", s, "PLATFORM", s, "CITY", s, "WINDOW_START", ts, "WINDOW_END", ts, "EVENTS", i, "USAGE_COUNT", i,
		"SALES", f, "VISITORS", i, "FINAL", b, "UPDATED_AT", ts)
	// PageviewCountryMetrics (seed 004 topic 5): page views joined with the
	// cleaned users, per country per 1-minute tumbling window: views,
	// distinct users and the mean age over the joined views.
	PageviewCountryMetrics = schema("PAGEVIEW_COUNTRY_METRICS", "METRIC_ID",
		"METRIC_ID", s, "COUNTRY", s, "WINDOW_START", ts, "WINDOW_END", ts, "PAGEVIEWS", i, "USERS", i, "AVG_AGE", f,
		"FINAL", b, "UPDATED_AT", ts)
	// ConsumerSessions (seed 003 bonus): every sign-in/sign-out session the
	// tracker closed; TIMED_OUT flags a session closed by the timeout
	// (no sign-out), whose SIGN_OUT_TIME is then sign-in + timeout.
	ConsumerSessions = schema("CONSUMER_SESSIONS", "SESSION_ID",
		"SESSION_ID", s, "USER_ID", i, "SIGN_IN_TIME", ts, "SIGN_OUT_TIME", ts, "DURATION_SECONDS", f, "TIMED_OUT", b,
		"UPDATED_AT", ts)
	// LateEvents: every event that arrived after the watermark passed its
	// window, kept whole with the window it missed (DESIGN.md 4.3); the
	// event itself is loaded into its fact table all the same.
	LateEvents = schema("PULSE_LATE_EVENTS", "LATE_ID",
		"LATE_ID", s, "DATASET", s, "WINDOW_TYPE", s, "WINDOW_START", ts, "WINDOW_END", ts, "EVENT_TIME", ts,
		"WATERMARK", ts, "ORIGIN", s, "RECORD", s, "RECORDED_AT", ts)
)
