package cost

import (
	"errors"
	"fmt"
	"time"
)

// Hours in a month as AWS prices them (730); every monthly figure uses it.
const (
	HoursPerMonth   = 730.0
	SecondsPerMonth = HoursPerMonth * 3600
	DaysPerMonth    = HoursPerMonth / 24
)

// Load modes of the stream's warehouse loads.
const (
	// LoadMerge: every micro-batch stages its rows and MERGEs them
	// (PUT, COPY INTO, MERGE per table), as shared/adapters/snowflake does.
	LoadMerge = "merge"
	// LoadSnowpipe: rows are appended through Snowpipe Streaming
	// (high-performance architecture, billed per uncompressed GB); the
	// upserted tables' rows land in staging tables the same way and one
	// MERGE per MergeEvery moves them into their tables.
	LoadSnowpipe = "snowpipe"
)

// Dedupe table capacity modes.
const (
	DedupeOnDemand    = "on-demand"
	DedupeProvisioned = "provisioned"
)

// Kafka choices.
const (
	KafkaServerless  = "msk-serverless"  // what `cdk deploy` makes when no cluster is given
	KafkaProvisioned = "msk-provisioned" // a provisioned MSK cluster priced here
	KafkaExisting    = "existing"        // a cluster the user already pays for: not counted
)

// Batch workflow types.
const (
	WorkflowStandard = "standard"
	WorkflowExpress  = "express"
)

// TopicGroup is topics sharing an event-source mapping configuration
// (infra/stacks.DefaultTopicGroups).
type TopicGroup struct {
	Names         []string
	BatchSize     int     // records per batch at most
	WindowSeconds float64 // the batching window
}

// Assumptions are the model's inputs besides the prices and the measured
// figures: the load, the deployment choices and what is not measured here
// (round-trip times on AWS and Snowflake, warehouse seconds per MERGE).
type Assumptions struct {
	EventsPerSecond    float64
	TopicGroups        []TopicGroup
	PartitionsPerTopic int

	StreamMemoryMB   int     // the stream function (infra/stacks/streaming.go)
	DynamoDBSeconds  float64 // one DynamoDB request, round trip
	S3PutSeconds     float64 // one small S3 PUT
	StatementSeconds float64 // one Snowflake statement (PUT, COPY, MERGE, ...), round trip
	AppendSeconds    float64 // one Snowpipe Streaming append request
	ClaimConcurrency int     // dedupe claims in flight at once (shared/adapters/dynamo)

	LoadMode           string
	MergeEvery         time.Duration // Snowpipe mode: the MERGE cadence of upserted tables
	MergeSeconds       float64       // warehouse seconds one cadence MERGE runs
	TestsEvery         time.Duration // stream data tests, per function instance (handlers.Stream)
	TestsSeconds       float64       // warehouse seconds one data-test run takes
	DataTests          int           // queries per stream data-test run (stream + marts suites)
	Warehouse          string        // xs, s, m, l
	Edition            string        // standard, enterprise, business_critical
	AutoSuspendSeconds float64
	CompressionRatio   float64 // values as text : Snowflake's compressed storage

	Dedupe            string
	TargetUtilization float64       // provisioned capacity: autoscaling target
	StreamDedupeTTL   time.Duration // how long stream claims are kept (the stream function's PULSE_DEDUPE_TTL)
	FileDedupeTTL     time.Duration
	PITR              bool

	Kafka          string
	Brokers        int
	BrokerType     string        // a msk.broker.<type> rate
	KafkaRetention time.Duration // how long topics keep records
	NewVPC         bool          // the deployment made the VPC (one NAT gateway)

	FilesPerDay          float64
	FileMB               float64
	RecordBytes          float64 // bytes of one record in the files
	Workflow             string
	StepSeconds          float64 // fixed wall time of one batch step (S3 and DynamoDB round trips)
	FileWarehouseSeconds float64 // warehouse seconds of one file's Load and DataTests
	CleanMemoryMB        int
	ModelMemoryMB        int
	LoadMemoryMB         int
	TriggerMemoryMB      int

	GoldRunsPerDay float64 // the daily gold and catalog workflows' warehouse runs
	GoldSeconds    float64

	LogBytesPerInvocation float64 // Lambda's START, END and REPORT lines (the functions are quiet when all goes well)
	LogBytesPerExecution  float64 // a standard execution's ALL-level log with execution data
}

// DefaultAssumptions are the deployment as `cdk deploy` makes it with no
// options (MSK Serverless in a new VPC, on-demand tables, MERGE loads on an
// X-Small Standard-edition warehouse), at 0 events/s.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		TopicGroups: []TopicGroup{
			{Names: []string{"live_streaming", "video_interactions", "social_sales", "pageviews", "user_sessions", "users", "movies_catalog_enriched"},
				BatchSize: 500, WindowSeconds: 5},
			{Names: []string{"consumer_registration", "sign_in", "sign_out", "item_view", "added_to_cart", "checkout_to_cart"},
				BatchSize: 1000, WindowSeconds: 10},
		},
		PartitionsPerTopic: 1,

		StreamMemoryMB:   1024,
		DynamoDBSeconds:  0.008,
		S3PutSeconds:     0.05,
		StatementSeconds: 0.25,
		AppendSeconds:    0.1,
		ClaimConcurrency: 16,

		LoadMode:           LoadMerge,
		MergeEvery:         15 * time.Minute,
		MergeSeconds:       20,
		TestsEvery:         5 * time.Minute,
		TestsSeconds:       10,
		DataTests:          20,
		Warehouse:          "xs",
		Edition:            "standard",
		AutoSuspendSeconds: 60,
		CompressionRatio:   5,

		Dedupe:            DedupeOnDemand,
		TargetUtilization: 0.7,
		StreamDedupeTTL:   400 * 24 * time.Hour,
		FileDedupeTTL:     400 * 24 * time.Hour,
		PITR:              true,

		Kafka:          KafkaServerless,
		Brokers:        2,
		BrokerType:     "kafka.m7g.large",
		KafkaRetention: 7 * 24 * time.Hour,
		NewVPC:         true,

		FileMB:               10,
		RecordBytes:          644,
		Workflow:             WorkflowStandard,
		StepSeconds:          0.3,
		FileWarehouseSeconds: 30,
		CleanMemoryMB:        2048,
		ModelMemoryMB:        2048,
		LoadMemoryMB:         1024,
		TriggerMemoryMB:      256,

		GoldRunsPerDay: 2,
		GoldSeconds:    60,

		LogBytesPerInvocation: 350,
		LogBytesPerExecution:  8192,
	}
}

// Check names every assumption that cannot be modeled and why.
func (a Assumptions) Check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if a.EventsPerSecond < 0 {
		bad("events-per-second", "%v is negative", a.EventsPerSecond)
	}
	if a.FilesPerDay < 0 {
		bad("files-per-day", "%v is negative", a.FilesPerDay)
	}
	if a.FilesPerDay > 0 && (a.FileMB <= 0 || a.RecordBytes <= 0) {
		bad("file-mb", "files need a positive size (%v MB) and record size (%v bytes)", a.FileMB, a.RecordBytes)
	}
	if len(a.TopicGroups) == 0 {
		bad("topics", "no topic group")
	}
	for i, g := range a.TopicGroups {
		if len(g.Names) == 0 || g.BatchSize < 1 || g.WindowSeconds <= 0 {
			bad("topics", "group %d needs topics, a batch size >= 1 and a batching window > 0", i)
		}
	}
	if a.PartitionsPerTopic < 1 {
		bad("partitions", "%d: at least 1 per topic", a.PartitionsPerTopic)
	}
	switch a.LoadMode {
	case LoadMerge, LoadSnowpipe:
	default:
		bad("load-mode", "%q is not %s or %s", a.LoadMode, LoadMerge, LoadSnowpipe)
	}
	if a.LoadMode == LoadSnowpipe && a.MergeEvery <= 0 {
		bad("merge-every", "%v: the snowpipe mode needs a MERGE cadence > 0", a.MergeEvery)
	}
	switch a.Dedupe {
	case DedupeOnDemand, DedupeProvisioned:
	default:
		bad("dedupe", "%q is not %s or %s", a.Dedupe, DedupeOnDemand, DedupeProvisioned)
	}
	if a.Dedupe == DedupeProvisioned && (a.TargetUtilization <= 0 || a.TargetUtilization > 1) {
		bad("target-utilization", "%v is not in (0, 1]", a.TargetUtilization)
	}
	switch a.Kafka {
	case KafkaServerless, KafkaExisting:
	case KafkaProvisioned:
		if a.Brokers < 1 {
			bad("brokers", "%d: a provisioned cluster needs brokers", a.Brokers)
		}
	default:
		bad("kafka", "%q is not %s, %s or %s", a.Kafka, KafkaServerless, KafkaProvisioned, KafkaExisting)
	}
	switch a.Workflow {
	case WorkflowStandard, WorkflowExpress:
	default:
		bad("workflow", "%q is not %s or %s", a.Workflow, WorkflowStandard, WorkflowExpress)
	}
	switch a.Edition {
	case "standard", "enterprise", "business_critical":
	default:
		bad("edition", "%q is not standard, enterprise or business_critical", a.Edition)
	}
	switch a.Warehouse {
	case "xs", "s", "m", "l":
	default:
		bad("warehouse", "%q is not xs, s, m or l", a.Warehouse)
	}
	if a.StreamMemoryMB < 128 || a.CleanMemoryMB < 128 || a.ModelMemoryMB < 128 || a.LoadMemoryMB < 128 || a.TriggerMemoryMB < 128 {
		bad("memory", "Lambda memory sizes are at least 128 MB")
	}
	if a.ClaimConcurrency < 1 {
		bad("claim-concurrency", "%d: at least 1", a.ClaimConcurrency)
	}
	if a.CompressionRatio <= 0 {
		bad("compression", "%v: must be positive", a.CompressionRatio)
	}
	if a.TestsEvery < 0 {
		bad("tests-every", "%v is negative (0 turns the stream data tests off)", a.TestsEvery)
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"dynamodb-seconds", a.DynamoDBSeconds}, {"s3-put-seconds", a.S3PutSeconds}, {"statement-seconds", a.StatementSeconds},
		{"append-seconds", a.AppendSeconds}, {"merge-seconds", a.MergeSeconds}, {"tests-seconds", a.TestsSeconds},
		{"auto-suspend", a.AutoSuspendSeconds}, {"step-seconds", a.StepSeconds}, {"file-warehouse-seconds", a.FileWarehouseSeconds},
		{"gold-seconds", a.GoldSeconds}, {"gold-runs", a.GoldRunsPerDay}} {
		if v.v < 0 {
			bad(v.name, "%v is negative", v.v)
		}
	}
	return errors.Join(errs...)
}

func (a Assumptions) topics() int {
	n := 0
	for _, g := range a.TopicGroups {
		n += len(g.Names)
	}
	return n
}
