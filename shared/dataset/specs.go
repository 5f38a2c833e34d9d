package dataset

import (
	"math"

	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Field constructors keep the specs below short and readable.
func str(name string, opts ...func(*Field)) Field     { return field(name, table.String, opts) }
func integer(name string, opts ...func(*Field)) Field { return field(name, table.Int, opts) }
func float(name string, opts ...func(*Field)) Field   { return field(name, table.Float, opts) }
func boolean(name string, opts ...func(*Field)) Field { return field(name, table.Bool, opts) }
func stamp(name string, opts ...func(*Field)) Field   { return field(name, table.Timestamp, opts) }
func date(name string, opts ...func(*Field)) Field    { return field(name, table.Date, opts) }

func field(name string, t table.Type, opts []func(*Field)) Field {
	f := Field{Name: name, Type: t}
	for _, o := range opts {
		o(&f)
	}
	return f
}

func critical(f *Field)     { f.Critical = true }
func keepNull(f *Field)     { f.KeepNull = true }
func blankIsValue(f *Field) { f.BlankIsValue = true }
func personal(f *Field)     { f.Personal = true }
func from(names ...string) func(*Field) {
	return func(f *Field) { f.From = names }
}
func std(fn func(string) (string, error)) func(*Field) { return func(f *Field) { f.Std = fn } }
func between(lo, hi float64) func(*Field) {
	return func(f *Field) { f.Min, f.Max, f.Ranged = lo, hi, true }
}
func nonNegative(f *Field)         { f.Min, f.Max, f.Ranged = 0, math.Inf(1), true }
func def(text string) func(*Field) { return func(f *Field) { f.Default = text } }

// age is the shared Age rule: 13-100 inclusive, NULL when absent.
func age(opts ...func(*Field)) Field {
	return integer("Age", append([]func(*Field){between(13, 100), keepNull}, opts...)...)
}

func col(name, fieldName string) star.Col        { return star.Col{Name: name, Field: fieldName} }
func md5(name string, fields ...string) star.Col { return star.Col{Name: name, MD5: fields} }
func factID(dataset string, key ...string) star.Col {
	return star.Col{Name: "INTERACTION_ID", MD5: key, Salt: dataset}
}

// The dimension mappings several datasets share.
var (
	userDim = star.TableMap{Table: star.DimUser, Cols: []star.Col{
		md5("USER_S_ID", "UserID"), col("USER_ID", "UserID"), col("AGE", "Age"), col("GENDER", "Gender"),
		col("AGE_GROUP", "AgeGroup"), col("LOCATION", "Location")}}
	platformDim = star.TableMap{Table: star.DimPlatform, Cols: []star.Col{md5("PLATFORM_ID", "Platform"), col("PLATFORM", "Platform")}}
	deviceDim   = star.TableMap{Table: star.DimDeviceType, Cols: []star.Col{md5("DEVICE_TYPE_ID", "DeviceType"), col("DEVICE_TYPE", "DeviceType")}}
	timeDim     = star.TableMap{Table: star.DimTime, Cols: []star.Col{md5("TIME_ID", "WatchTime"), col("WATCH_TIME", "WatchTime"), col("HOUR", "Hour")}}
)

// CommunityInteractions: seed 000, Parquet files.
var CommunityInteractions = &Spec{
	Name: "community_interactions", Seed: "000", Formats: []record.Format{record.Parquet, record.NDJSON, record.CSV},
	Batch: true,
	Fields: []Field{
		str("UserID", critical),
		integer("CommunityID", critical),
		str("CommunityName"),
		str("Platform", std(Platform), def("Unknown")),
		str("MembershipStatus", std(OneOf("Member", "Admin", "Moderator", "Owner", "Guest", "Pending"))),
		float("CommunityEngagement", nonNegative),
		float("TotalTimeSpent", nonNegative),
		age(),
		str("Gender", std(Gender)),
		str("Location", std(Country)),
		stamp("EventTime", keepNull, from("EventTime", "InteractionTime", "Timestamp")),
	},
	Derived:   []Derived{deriveAgeGroup("Age"), deriveHour("", "EventTime")},
	Key:       []string{"CommunityID", "UserID"},
	EventTime: "EventTime",
	Star: []star.TableMap{
		userDim, platformDim,
		{Table: star.DimCommunity, Cols: []star.Col{md5("COMMUNITY_S_ID", "CommunityID"), col("COMMUNITY_ID", "CommunityID"), col("COMMUNITY_NAME", "CommunityName")}},
		{Table: star.DimMembershipStatus, Cols: []star.Col{md5("MEMBERSHIP_STATUS_ID", "MembershipStatus"), col("MEMBERSHIP_STATUS", "MembershipStatus")}},
		{Table: star.FactCommunityInteractions, Cols: []star.Col{
			factID("community_interactions", "CommunityID", "UserID"), md5("USER_S_ID", "UserID"), md5("COMMUNITY_S_ID", "CommunityID"),
			md5("PLATFORM_ID", "Platform"), md5("MEMBERSHIP_STATUS_ID", "MembershipStatus"),
			col("COMMUNITY_ENGAGEMENT", "CommunityEngagement"), col("TOTAL_TIME_SPENT", "TotalTimeSpent"),
			col("EVENT_TIME", "EventTime"), col("HOUR", "Hour"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}},
	},
}

// LiveStreaming: seed 000, NDJSON files and the live_streaming topic.
var LiveStreaming = &Spec{
	Name: "live_streaming", Seed: "000", Formats: []record.Format{record.NDJSON, record.CSV, record.Parquet},
	Batch: true, Stream: &Stream{},
	Fields: []Field{
		str("UserID", critical),
		integer("EventID", critical),
		str("EventType", std(Title)),
		integer("StreamDuration", nonNegative),
		str("DeviceType", std(DeviceType)),
		str("Platform", std(Platform)),
		float("LiveEngagement", nonNegative),
		float("ViewerCount", nonNegative),
		float("AddictionLevel", between(0, 10)),
		str("WatchTime", std(ClockTime)),
		age(),
		str("Gender", std(Gender)),
		str("Location", std(Country)),
		stamp("EventTime", critical, from("EventTime", "Timestamp")),
	},
	Derived:   []Derived{deriveAgeGroup("Age"), deriveHour("WatchTime", "EventTime")},
	Key:       []string{"EventID", "UserID"},
	EventTime: "EventTime",
	Star: []star.TableMap{
		userDim, platformDim, deviceDim, timeDim,
		{Table: star.DimEvent, Cols: []star.Col{md5("EVENT_S_ID", "EventID"), col("EVENT_ID", "EventID"), col("EVENT_TYPE", "EventType"), col("STREAM_DURATION", "StreamDuration")}},
		{Table: star.FactLiveStreamingInteractions, Cols: []star.Col{
			factID("live_streaming", "EventID", "UserID"), md5("USER_S_ID", "UserID"), md5("EVENT_S_ID", "EventID"),
			md5("PLATFORM_ID", "Platform"), md5("DEVICE_TYPE_ID", "DeviceType"), md5("TIME_ID", "WatchTime"),
			col("LIVE_ENGAGEMENT", "LiveEngagement"), col("VIEWER_COUNT", "ViewerCount"), col("ADDICTION_LEVEL", "AddictionLevel"),
			col("EVENT_TIME", "EventTime"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}},
	},
}

// VideoInteractions: seed 000, CSV and NDJSON files and the
// video_interactions topic, in the Time-Wasters shape
// (tests/testdata/corpora/time-wasters).
var VideoInteractions = &Spec{
	Name: "video_interactions", Seed: "000", Formats: []record.Format{record.CSV, record.NDJSON, record.Parquet},
	Batch: true, Stream: &Stream{},
	Fields: []Field{
		str("UserID", critical),
		age(),
		str("Gender", std(Gender)),
		str("Location", std(Country)),
		float("Income", nonNegative),
		boolean("Debt"),
		boolean("Owns_Property"),
		str("Profession", std(Title)),
		str("Demographics", std(Title)),
		str("Platform", std(Platform)),
		float("Total_Time_Spent", nonNegative),
		integer("Number_of_Sessions", nonNegative),
		integer("Video_ID", critical),
		str("Video_Category", std(Title)),
		float("Video_Length", nonNegative),
		float("Engagement", nonNegative),
		float("Importance_Score", nonNegative),
		float("Time_Spent_On_Video", nonNegative),
		integer("Number_of_Videos_Watched", nonNegative),
		float("Scroll_Rate", nonNegative),
		str("Frequency", std(Title)),
		float("ProductivityLoss", between(0, 10)),
		float("Satisfaction", between(0, 10)),
		str("Watch_Reason", std(Title)),
		str("DeviceType", std(DeviceType)),
		str("OS", std(OneOf("Android", "iOS", "Windows", "MacOS", "Linux", "Other"))),
		str("WatchTime", std(ClockTime), from("Watch_Time", "WatchTime")),
		float("Self_Control", between(0, 10)),
		float("Addiction_Level", between(0, 10)),
		str("CurrentActivity", std(Title)),
		str("ConnectionType", std(OneOf("Mobile Data", "Wi-Fi", "Ethernet", "Other"))),
		stamp("EventTime", keepNull, from("EventTime", "Timestamp")),
	},
	Derived:   []Derived{deriveAgeGroup("Age"), deriveHour("WatchTime", "EventTime")},
	Key:       []string{"UserID", "Video_ID"},
	EventTime: "EventTime",
	Star: []star.TableMap{
		userDim, platformDim, deviceDim, timeDim,
		{Table: star.DimWatchReason, Cols: []star.Col{md5("WATCH_REASON_ID", "Watch_Reason"), col("WATCH_REASON", "Watch_Reason")}},
		{Table: star.FactVideoInteractions, Cols: []star.Col{
			factID("video_interactions", "UserID", "Video_ID"), md5("USER_S_ID", "UserID"), md5("PLATFORM_ID", "Platform"),
			md5("DEVICE_TYPE_ID", "DeviceType"), md5("TIME_ID", "WatchTime"), md5("WATCH_REASON_ID", "Watch_Reason"),
			col("VIDEO_ID", "Video_ID"), col("VIDEO_CATEGORY", "Video_Category"), col("VIDEO_LENGTH", "Video_Length"),
			col("ENGAGEMENT", "Engagement"), col("IMPORTANCE_SCORE", "Importance_Score"), col("TIME_SPENT_ON_VIDEO", "Time_Spent_On_Video"),
			col("NUMBER_OF_VIDEOS_WATCHED", "Number_of_Videos_Watched"), col("SCROLL_RATE", "Scroll_Rate"), col("FREQUENCY", "Frequency"),
			col("PRODUCTIVITY_LOSS", "ProductivityLoss"), col("SATISFACTION", "Satisfaction"), col("SELF_CONTROL", "Self_Control"),
			col("ADDICTION_LEVEL", "Addiction_Level"), col("TOTAL_TIME_SPENT", "Total_Time_Spent"), col("NUMBER_OF_SESSIONS", "Number_of_Sessions"),
			col("INCOME", "Income"), col("DEBT", "Debt"), col("OWNS_PROPERTY", "Owns_Property"), col("PROFESSION", "Profession"),
			col("DEMOGRAPHICS", "Demographics"), col("OS", "OS"), col("CURRENT_ACTIVITY", "CurrentActivity"), col("CONNECTION_TYPE", "ConnectionType"),
			col("EVENT_TIME", "EventTime"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}},
	},
}

// AppInteractions: seed 002 (note-taking app), CSV files; staging is
// partitioned by event date.
var AppInteractions = &Spec{
	Name: "app_interactions", Seed: "002", Formats: []record.Format{record.CSV, record.NDJSON, record.Parquet},
	Batch: true,
	Fields: []Field{
		str("user_id", critical),
		stamp("timestamp", critical),
		str("action_type", critical, std(OneOf("page_view", "edit", "create", "delete", "share"))),
		str("page_id"),
		// A missing duration stays NULL: seed 002 counts an interaction only
		// with a valid duration, and a 0 ms default would make its user
		// active (shared/gold excludes NULL durations).
		integer("duration_ms", nonNegative, keepNull),
		str("app_version"),
	},
	Derived:   []Derived{{Name: "event_date", Type: table.Date, Fn: func(r Fields) (table.Cell, error) { return table.Cell{I: r.Get("timestamp").I / 86_400_000_000}, nil }}},
	Key:       []string{"user_id", "timestamp", "action_type"},
	EventTime: "timestamp",
	Partition: ByEventDate,
	Star: []star.TableMap{
		{Table: star.FactAppInteractions, Cols: []star.Col{
			factID("app_interactions", "user_id", "timestamp", "action_type"), md5("APP_USER_S_ID", "user_id"), col("USER_ID", "user_id"),
			col("EVENT_TIME", "timestamp"), col("EVENT_DATE", "event_date"), col("ACTION_TYPE", "action_type"), col("PAGE_ID", "page_id"),
			col("DURATION_MS", "duration_ms"), col("APP_VERSION", "app_version"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}},
	},
}

// AppUsers: seed 002 user metadata, CSV files; a snapshot (latest row per
// user wins), staging partitioned by country.
var AppUsers = &Spec{
	Name: "app_users", Seed: "002", Formats: []record.Format{record.CSV, record.NDJSON, record.Parquet}, Mode: Snapshot,
	Batch: true,
	Fields: []Field{
		str("user_id", critical),
		date("join_date", keepNull),
		str("country", std(Country)),
		str("device_type", std(DeviceType)),
		str("subscription_type", std(OneOf("Free", "Basic", "Premium", "Business", "Enterprise"))),
	},
	Key:            []string{"user_id"},
	Partition:      ByField,
	PartitionField: "country",
	Star: []star.TableMap{
		{Table: star.DimAppUser, Cols: []star.Col{md5("APP_USER_S_ID", "user_id"), col("USER_ID", "user_id"), col("JOIN_DATE", "join_date"),
			col("COUNTRY", "country"), col("DEVICE_TYPE", "device_type"), col("SUBSCRIPTION_TYPE", "subscription_type"), col("INGESTION_TIMESTAMP", ColIngestedAt)}},
	},
}

func init() {
	for _, s := range []*Spec{CommunityInteractions, LiveStreaming, VideoInteractions, AppInteractions, AppUsers} {
		Register(s)
	}
}
