package views

// Seed 000: the six engagement dashboards over the star schema. Engagement
// is each source's own measure (COMMUNITY_ENGAGEMENT, LIVE_ENGAGEMENT,
// video ENGAGEMENT); SOURCE says which (community, live_streaming, video),
// because the three scales differ and should not be summed blindly.
// A fact row's user attributes (AGE_GROUP, GENDER, LOCATION) are DIM_USER's,
// which holds the latest loaded values per user: those of the user's first
// row in the most recently loaded file that has the user (the batch path
// writes one dimension row per key per file, and loads MERGE over earlier
// ones).

// engagement unions the three seed-000 engagement facts with their
// dimensions, one row per interaction.
const engagement = `
SELECT 'community' AS SOURCE, p.PLATFORM, u.AGE_GROUP, u.GENDER, u.LOCATION, f.HOUR, f.EVENT_TIME,
       f.COMMUNITY_ENGAGEMENT AS ENGAGEMENT, f.INGESTION_TIMESTAMP
  FROM FACT_COMMUNITY_INTERACTIONS f
  JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID
  JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID
UNION ALL
SELECT 'live_streaming', p.PLATFORM, u.AGE_GROUP, u.GENDER, u.LOCATION, t.HOUR, f.EVENT_TIME,
       f.LIVE_ENGAGEMENT, f.INGESTION_TIMESTAMP
  FROM FACT_LIVE_STREAMING_INTERACTIONS f
  JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID
  JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID
  JOIN DIM_TIME t ON t.TIME_ID = f.TIME_ID
UNION ALL
SELECT 'video', p.PLATFORM, u.AGE_GROUP, u.GENDER, u.LOCATION, t.HOUR, f.EVENT_TIME,
       f.ENGAGEMENT, f.INGESTION_TIMESTAMP
  FROM FACT_VIDEO_INTERACTIONS f
  JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID
  JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID
  JOIN DIM_TIME t ON t.TIME_ID = f.TIME_ID`

var (
	// VEngagement: every engagement fact with its dimensions (the base of
	// the 000 views and of dashboard filters).
	// Columns: SOURCE, PLATFORM, AGE_GROUP, GENDER, LOCATION, HOUR,
	// EVENT_TIME, ENGAGEMENT, INGESTION_TIMESTAMP.
	VEngagement = View{"V_ENGAGEMENT", "All engagement facts", engagement, nil}

	// EngagementByPlatform (Engagement Overview).
	// Columns: PLATFORM, SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT.
	EngagementByPlatform = View{"ENGAGEMENT_BY_PLATFORM", "Engagement overview: engagement by platform", `
SELECT PLATFORM, SOURCE, COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT
  FROM V_ENGAGEMENT GROUP BY PLATFORM, SOURCE`, nil}

	// EngagementOverview is the seed's own name for the view its Metabase
	// dashboards read (section 3.5, "query views (e.g., ENGAGEMENT_OVERVIEW)"):
	// the Engagement Overview dashboard, engagement by platform, one row per
	// platform and source. It holds ENGAGEMENT_BY_PLATFORM's rows (Pulse's
	// per-dashboard name, which the web dashboard reads).
	// Columns: PLATFORM, SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT.
	EngagementOverview = View{"ENGAGEMENT_OVERVIEW", "Engagement overview (the seed's view): engagement by platform and source", `
SELECT PLATFORM, SOURCE, COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT
  FROM V_ENGAGEMENT GROUP BY PLATFORM, SOURCE`, nil}

	// EngagementByAgeGroup (Demographics); AGE_GROUP is 13-17, 18-24, 25-34,
	// 35-44, 45-54, 55-64, 65+ or Unknown.
	// Columns: AGE_GROUP, SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT.
	EngagementByAgeGroup = View{"ENGAGEMENT_BY_AGE_GROUP", "Demographics: engagement by age group", `
SELECT AGE_GROUP, SOURCE, COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT
  FROM V_ENGAGEMENT GROUP BY AGE_GROUP, SOURCE`, nil}

	// EngagementByHour (Time Trends): HOUR 0-23 is the watch time's hour
	// (live, video) or the event time's UTC hour (community); rows without
	// an hour are left out.
	// Columns: HOUR, SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT.
	EngagementByHour = View{"ENGAGEMENT_BY_HOUR", "Time trends: engagement by hour", `
SELECT HOUR, SOURCE, COUNT(*) AS INTERACTIONS, SUM(ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(ENGAGEMENT) AS AVG_ENGAGEMENT
  FROM V_ENGAGEMENT WHERE HOUR IS NOT NULL GROUP BY HOUR, SOURCE`, nil}

	// CommunityTrends (Community Trends).
	// Columns: COMMUNITY_NAME, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT,
	// TOTAL_TIME_SPENT.
	CommunityTrends = View{"COMMUNITY_TRENDS", "Community trends: engagement by community name", `
SELECT c.COMMUNITY_NAME, COUNT(*) AS INTERACTIONS, SUM(f.COMMUNITY_ENGAGEMENT) AS TOTAL_ENGAGEMENT,
       AVG(f.COMMUNITY_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.TOTAL_TIME_SPENT) AS TOTAL_TIME_SPENT
  FROM FACT_COMMUNITY_INTERACTIONS f JOIN DIM_COMMUNITY c ON c.COMMUNITY_S_ID = f.COMMUNITY_S_ID
 GROUP BY c.COMMUNITY_NAME`, nil}

	// LiveEngagementByDevice (Live Streaming).
	// Columns: DEVICE_TYPE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT, VIEWERS.
	LiveEngagementByDevice = View{"LIVE_ENGAGEMENT_BY_DEVICE", "Live streaming: live engagement by device type", `
SELECT d.DEVICE_TYPE, COUNT(*) AS INTERACTIONS, SUM(f.LIVE_ENGAGEMENT) AS TOTAL_ENGAGEMENT,
       AVG(f.LIVE_ENGAGEMENT) AS AVG_ENGAGEMENT, SUM(f.VIEWER_COUNT) AS VIEWERS
  FROM FACT_LIVE_STREAMING_INTERACTIONS f JOIN DIM_DEVICE_TYPE d ON d.DEVICE_TYPE_ID = f.DEVICE_TYPE_ID
 GROUP BY d.DEVICE_TYPE`, nil}

	// VideoEngagementByWatchReason (Video Interactions).
	// Columns: WATCH_REASON, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT,
	// AVG_PRODUCTIVITY_LOSS, AVG_ADDICTION_LEVEL.
	VideoEngagementByWatchReason = View{"VIDEO_ENGAGEMENT_BY_WATCH_REASON", "Video interactions: engagement by watch reason", `
SELECT r.WATCH_REASON, COUNT(*) AS INTERACTIONS, SUM(f.ENGAGEMENT) AS TOTAL_ENGAGEMENT, AVG(f.ENGAGEMENT) AS AVG_ENGAGEMENT,
       AVG(f.PRODUCTIVITY_LOSS) AS AVG_PRODUCTIVITY_LOSS, AVG(f.ADDICTION_LEVEL) AS AVG_ADDICTION_LEVEL
  FROM FACT_VIDEO_INTERACTIONS f JOIN DIM_WATCH_REASON r ON r.WATCH_REASON_ID = f.WATCH_REASON_ID
 GROUP BY r.WATCH_REASON`, nil}

	// PipelineHealth: per dataset, the files and batches processed and their
	// accounting: RECEIVED = LOADED + REJECTED + DUPLICATE; LATE counts the
	// loaded records that arrived after their windows had closed (of
	// LOADED, not beside it; stream only).
	// Columns: DATASET, FILES, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE,
	// LAST_LOADED_AT.
	PipelineHealth = View{"PIPELINE_HEALTH", "Pipeline health: records per dataset", `
SELECT DATASET, COUNT(*) AS FILES, SUM(RECEIVED) AS RECEIVED, SUM(LOADED) AS LOADED, SUM(REJECTED) AS REJECTED,
       SUM(DUPLICATE) AS DUPLICATE, SUM(LATE) AS LATE, MAX(FINISHED_AT) AS LAST_LOADED_AT
  FROM PULSE_MANIFESTS GROUP BY DATASET`, nil}
)

// Batch are the seed-000 views over the star schema, and PIPELINE_HEALTH.
var Batch = []View{
	VEngagement, EngagementByPlatform, EngagementOverview, EngagementByAgeGroup, EngagementByHour, CommunityTrends,
	LiveEngagementByDevice, VideoEngagementByWatchReason, PipelineHealth,
}
