package star

import "github.com/pulse-analytics/pulse/shared/table"

const (
	s  = table.String
	i  = table.Int
	f  = table.Float
	b  = table.Bool
	ts = table.Timestamp
	d  = table.Date
)

func schema(name string, key string, cols ...any) *table.Schema {
	t := &table.Schema{Name: name, Key: []string{key}}
	for k := 0; k < len(cols); k += 2 {
		t.Columns = append(t.Columns, table.Column{Name: cols[k].(string), Type: cols[k+1].(table.Type)})
	}
	return t
}

// Dimensions (seed 000 section 4.2, plus what the other sources need).
var (
	DimUser             = schema("DIM_USER", "USER_S_ID", "USER_S_ID", s, "USER_ID", s, "AGE", i, "GENDER", s, "AGE_GROUP", s, "LOCATION", s)
	DimCommunity        = schema("DIM_COMMUNITY", "COMMUNITY_S_ID", "COMMUNITY_S_ID", s, "COMMUNITY_ID", i, "COMMUNITY_NAME", s)
	DimPlatform         = schema("DIM_PLATFORM", "PLATFORM_ID", "PLATFORM_ID", s, "PLATFORM", s)
	DimEvent            = schema("DIM_EVENT", "EVENT_S_ID", "EVENT_S_ID", s, "EVENT_ID", i, "EVENT_TYPE", s, "STREAM_DURATION", i)
	DimDeviceType       = schema("DIM_DEVICE_TYPE", "DEVICE_TYPE_ID", "DEVICE_TYPE_ID", s, "DEVICE_TYPE", s)
	DimTime             = schema("DIM_TIME", "TIME_ID", "TIME_ID", s, "WATCH_TIME", s, "HOUR", i)
	DimMembershipStatus = schema("DIM_MEMBERSHIP_STATUS", "MEMBERSHIP_STATUS_ID", "MEMBERSHIP_STATUS_ID", s, "MEMBERSHIP_STATUS", s)
	DimWatchReason      = schema("DIM_WATCH_REASON", "WATCH_REASON_ID", "WATCH_REASON_ID", s, "WATCH_REASON", s)
	DimAppUser          = schema("DIM_APP_USER", "APP_USER_S_ID", "APP_USER_S_ID", s, "USER_ID", s, "JOIN_DATE", d, "COUNTRY", s, "DEVICE_TYPE", s, "SUBSCRIPTION_TYPE", s, "INGESTION_TIMESTAMP", ts)
)

// Facts (seed 000 section 4.1 plus FACT_VIDEO_INTERACTIONS and the app
// interactions of seed 002).
var (
	FactCommunityInteractions = schema("FACT_COMMUNITY_INTERACTIONS", "INTERACTION_ID",
		"INTERACTION_ID", s, "USER_S_ID", s, "COMMUNITY_S_ID", s, "PLATFORM_ID", s, "MEMBERSHIP_STATUS_ID", s,
		"COMMUNITY_ENGAGEMENT", f, "TOTAL_TIME_SPENT", f, "EVENT_TIME", ts, "HOUR", i, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	FactLiveStreamingInteractions = schema("FACT_LIVE_STREAMING_INTERACTIONS", "INTERACTION_ID",
		"INTERACTION_ID", s, "USER_S_ID", s, "EVENT_S_ID", s, "PLATFORM_ID", s, "DEVICE_TYPE_ID", s, "TIME_ID", s,
		"LIVE_ENGAGEMENT", f, "VIEWER_COUNT", f, "ADDICTION_LEVEL", f, "EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	FactVideoInteractions = schema("FACT_VIDEO_INTERACTIONS", "INTERACTION_ID",
		"INTERACTION_ID", s, "USER_S_ID", s, "PLATFORM_ID", s, "DEVICE_TYPE_ID", s, "TIME_ID", s, "WATCH_REASON_ID", s,
		"VIDEO_ID", i, "VIDEO_CATEGORY", s, "VIDEO_LENGTH", f, "ENGAGEMENT", f, "IMPORTANCE_SCORE", f,
		"TIME_SPENT_ON_VIDEO", f, "NUMBER_OF_VIDEOS_WATCHED", i, "SCROLL_RATE", f, "FREQUENCY", s,
		"PRODUCTIVITY_LOSS", f, "SATISFACTION", f, "SELF_CONTROL", f, "ADDICTION_LEVEL", f,
		"TOTAL_TIME_SPENT", f, "NUMBER_OF_SESSIONS", i, "INCOME", f, "DEBT", b, "OWNS_PROPERTY", b,
		"PROFESSION", s, "DEMOGRAPHICS", s, "OS", s, "CURRENT_ACTIVITY", s, "CONNECTION_TYPE", s,
		"EVENT_TIME", ts, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
	FactAppInteractions = schema("FACT_APP_INTERACTIONS", "INTERACTION_ID",
		"INTERACTION_ID", s, "APP_USER_S_ID", s, "USER_ID", s, "EVENT_TIME", ts, "EVENT_DATE", d,
		"ACTION_TYPE", s, "PAGE_ID", s, "DURATION_MS", i, "APP_VERSION", s, "INGESTION_TIMESTAMP", ts, "SOURCE", s)
)

// Operational tables: every rejected record, and one manifest per file or
// batch (RECEIVED = LOADED + REJECTED + DUPLICATE; LATE counts the loaded
// records that arrived after their windows had closed, "of which late").
var (
	Rejects = schema("PULSE_REJECTS", "REJECT_ID",
		"REJECT_ID", s, "DATASET", s, "SOURCE", s, "ROW_POS", i, "FIELD", s, "REASON", s, "RECORD", s,
		"REJECTED_AT", ts, "REPLAYED", b)
	Manifests = schema("PULSE_MANIFESTS", "FILE_ID",
		"FILE_ID", s, "DATASET", s, "SOURCE", s, "RECEIVED", i, "LOADED", i, "REJECTED", i, "DUPLICATE", i, "LATE", i,
		"STATUS", s, "STARTED_AT", ts, "FINISHED_AT", ts)
	DataTests = schema("PULSE_DATA_TESTS", "TEST_ID",
		"TEST_ID", s, "FILE_ID", s, "DATASET", s, "TABLE_NAME", s, "TEST", s, "FAILURES", i, "STATUS", s, "RUN_AT", ts)
)

// Pipeline lists the tables the pipeline itself writes, whatever the
// sources: the stream metric tables, the closed sessions, the late events,
// and the rejects, manifests and data-test results. The tables the sources
// map to are declared beside, and listed by, their dataset specs:
// shared/dataset.Tables is every table of the model.
func Pipeline() []*table.Schema {
	return []*table.Schema{
		UserRegistrationMetrics, SessionMetrics, MovieSalesMetrics, SocialPlatformMetrics, PageviewWindowMetrics, LateEvents,
		SocialCityMetrics, PageviewCountryMetrics, ConsumerSessions,
		Rejects, Manifests, DataTests,
	}
}
