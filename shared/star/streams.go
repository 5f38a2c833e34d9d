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
		"ITEM_ID", s, "TITLE", s, "GENRE", s, "PRICE", f, "CURRENCY", s, "LIST_PRICE_RAW", s, "INGESTION_TIMESTAMP", ts)
	Pageviews = schema("PAGEVIEWS", "PAGEVIEW_ID",
		"PAGEVIEW_ID", s, "SESSION_ID", s, "USER_ID", s, "PAGE_SOURCE", s, "EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	UserSessions = schema("USER_SESSIONS", "SESSION_ID",
		"SESSION_ID", s, "USER_ID", s, "USER_NAME", s, "LOGIN_TIME", ts, "DEVICE", s, "INGESTION_TIMESTAMP", ts)
	CleanedUsers = schema("CLEANED_USERS", "USER_ID",
		"USER_ID", s, "AGE", i, "GENDER", s, "COUNTRY", s, "SUBSCRIPTION", s, "INGESTION_TIMESTAMP", ts)
)
