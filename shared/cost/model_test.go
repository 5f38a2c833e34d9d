package cost

import (
	"math"
	"strings"
	"testing"
	"time"
)

// testPrices are round prices, so that every expected figure below can be
// worked out by hand.
const testPrices = `{"currency": "USD", "region": "us-east-1", "rates": [
 {"key": "lambda.request", "unit": "request", "value": 0.000001, "source": "https://example.com/l", "read": "2026-12-07"},
 {"key": "lambda.arm.gb_second", "unit": "GB-second", "value": 0.00001, "source": "https://example.com/l", "read": "2026-12-07"},
 {"key": "dynamodb.ondemand.write", "unit": "WRU", "value": 0.000001, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "dynamodb.ondemand.read", "unit": "RRU", "value": 0.0000001, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "dynamodb.provisioned.wcu_hour", "unit": "WCU-hour", "value": 0.001, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "dynamodb.provisioned.rcu_hour", "unit": "RCU-hour", "value": 0.0001, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "dynamodb.storage.gb_month", "unit": "GB-month", "value": 1, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "dynamodb.pitr.gb_month", "unit": "GB-month", "value": 0.5, "source": "https://example.com/d", "read": "2026-12-07"},
 {"key": "s3.put", "unit": "request", "value": 0.00001, "source": "https://example.com/s", "read": "2026-12-07"},
 {"key": "s3.get", "unit": "request", "value": 0.000001, "source": "https://example.com/s", "read": "2026-12-07"},
 {"key": "s3.storage.gb_month", "unit": "GB-month", "value": 0.1, "source": "https://example.com/s", "read": "2026-12-07"},
 {"key": "sfn.standard.transition", "unit": "transition", "value": 0.0001, "source": "https://example.com/f", "read": "2026-12-07"},
 {"key": "snowflake.credit.standard", "unit": "credit", "value": 2, "source": "https://example.com/w", "read": "2026-12-07"},
 {"key": "snowflake.warehouse.xs", "unit": "credits/hour", "value": 1, "source": "https://example.com/w", "read": "2026-12-07"},
 {"key": "snowflake.warehouse.minimum_seconds", "unit": "seconds", "value": 60, "source": "https://example.com/w", "read": "2026-12-07"},
 {"key": "snowflake.snowpipe_streaming.gb", "unit": "credits/GB", "value": 0.0037, "source": "https://example.com/w", "read": "2026-12-07"},
 {"key": "snowflake.storage.tb_month", "unit": "TB-month", "value": 10, "source": "https://example.com/w", "read": "2026-12-07"},
 {"key": "cloudwatch.logs.ingest_gb", "unit": "GB", "value": 1, "source": "https://example.com/c", "read": "2026-12-07"},
 {"key": "secretsmanager.secret_month", "unit": "secret-month", "value": 0.5, "source": "https://example.com/m", "read": "2026-12-07"}
]}`

// small is one topic of 10 events/s in batches of 100 within 10 s, an
// existing Kafka cluster, no files, no data tests, no gold runs.
func small() (Assumptions, MeasuredFigures) {
	a := DefaultAssumptions()
	a.EventsPerSecond = 10
	a.TopicGroups = []TopicGroup{{Names: []string{"t"}, BatchSize: 100, WindowSeconds: 10}}
	a.StreamMemoryMB = 1024
	a.DynamoDBSeconds, a.S3PutSeconds, a.StatementSeconds, a.AppendSeconds = 0.01, 0.1, 0.2, 0.05
	a.ClaimConcurrency = 100
	a.TestsEvery = 0
	a.StreamDedupeTTL = 24 * time.Hour
	a.PITR = false
	a.Kafka, a.NewVPC = KafkaExisting, false
	a.GoldRunsPerDay = 0
	a.LogBytesPerInvocation = 350
	f := MeasuredFigures{Stream: StreamFigures{
		KafkaBytesPerEvent: 1000, ArchiveBytesPerEvent: 1000, S3PutsPerBatch: 1,
		DedupeWritesPerEvent: 1, DedupeWritesPerBatch: 2, DedupeItemBytes: 200,
		StateLoadsPerBatch: 1, StateRCUPerBatch: 1, StateSavesPerBatch: 1, StateWCUPerBatch: 3, LeaseWritesPerBatch: 2, LeaseRCUPerBatch: 1,
		MergesPerBatch: 2, AppendValueBytesPerEvent: 100,
	}}
	return a, f
}

func estimate(t *testing.T, a Assumptions, f MeasuredFigures) *Report {
	t.Helper()
	p, err := ReadPrices(strings.NewReader(testPrices))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(a, f, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

// line returns the monthly USD of the line whose item starts with prefix.
func line(t *testing.T, r *Report, service, prefix string) Line {
	t.Helper()
	for _, l := range r.Lines {
		if l.Service == service && strings.HasPrefix(l.Item, prefix) {
			return l
		}
	}
	t.Fatalf("no %s line %q in %+v", service, prefix, r.Lines)
	return Line{}
}

// TestEstimateMergeScenario works the small scenario out by hand:
//
//	10 events/s, 1 topic: max(10/100, 1/10) = 0.1 batch/s = 262,800 batches
//	and 26,280,000 events a month (2,628,000 s), 100 events a batch;
//	43,800 idle ticks (one a minute).
//	Batch wall time: DynamoDB (1 load + 1 save + 2 leases + 2 txn + 1 claim
//	wave) x 0.01 = 0.07 s; 1 PUT x 0.1 = 0.1 s; 2 merges x 5 statements x
//	0.2 = 2 s; total 2.17 s.
func TestEstimateMergeScenario(t *testing.T) {
	a, f := small()
	r := estimate(t, a, f)
	if r.EventsPerMonth != 26_280_000 {
		t.Fatalf("events a month %v, want 26,280,000", r.EventsPerMonth)
	}
	want := []struct {
		service, item     string
		quantity, monthly float64
	}{
		{"Lambda", "stream function invocations", 306_600, 0.3066},       // 262,800 + 43,800 at $1e-6
		{"Lambda", "stream function duration", 570_276, 5.70276},         // 1 GB x 262,800 x 2.17 s at $1e-5
		{"S3", "stream archive, quarantine and staging", 262_800, 2.628}, // 1 PUT a batch at $1e-5
		{"S3", "stream archive storage", 26.28, 2.628},                   // 26,280,000 x 1,000 B = 26.28 GB at $0.1
		{"Snowflake", "warehouse xs: stream MERGE", 730, 1460},           // a batch every 10 s < 2 s + 60 s: never suspends
		{"Snowflake", "storage", 0.0005256, 0.005256},                    // 26,280,000 x 100 B / 5 = 525.6 MB
		{"DynamoDB", "write request units", 28_119_600, 28.1196},         // 26,280,000 claims + 262,800 x (2 + 3 + 2)
		{"DynamoDB", "read request units", 525_600, 0.05256},             // 262,800 x (1 + 1)
		{"DynamoDB", "dedupe claims stored", 0.1728, 0.1728},             // 10 claims/s x 86,400 s x 200 B
		{"CloudWatch", "log ingestion", 0.10731, 0.10731},                // 306,600 x 350 B
		{"Secrets Manager", "the Snowflake key pair", 1, 0.5},
	}
	total := 0.0
	for _, w := range want {
		l := line(t, r, w.service, w.item)
		if !near(l.Quantity, w.quantity) || !near(l.MonthlyUSD, w.monthly) {
			t.Errorf("%s %q: quantity %v, $%v; want %v, $%v", w.service, w.item, l.Quantity, l.MonthlyUSD, w.quantity, w.monthly)
		}
		total += w.monthly
	}
	if len(r.Lines) != len(want) {
		t.Errorf("%d lines, want %d: %+v", len(r.Lines), len(want), r.Lines)
	}
	if !near(total, 1500.222886) || !near(r.MonthlyUSD, 1500.222886) {
		t.Errorf("total $%v (lines sum to $%v), want $1,500.222886", r.MonthlyUSD, total)
	}
	if !near(r.PerMillion, 1500.222886/26.28) {
		t.Errorf("per million $%v, want $%v", r.PerMillion, 1500.222886/26.28)
	}
	if got := r.Largest(); got.Service != "Snowflake" {
		t.Errorf("largest line %+v, want the warehouse", got)
	}
}

// TestEstimateSnowpipeScenario: the same stream loaded through Snowpipe
// Streaming with an hourly MERGE of 30 s: 730 runs billed 30 + 60 s each
// = 18.25 h = $36.50; 2.628 GB of values x 0.0037 credits x $2 =
// $0.0194472; batch wall time 0.07 + 0.1 + (1 append + 1 open) x 0.05 =
// 0.27 s.
func TestEstimateSnowpipeScenario(t *testing.T) {
	a, f := small()
	a.LoadMode, a.MergeEvery, a.MergeSeconds = LoadSnowpipe, time.Hour, 30
	f.Stream.SnowpipeAppendsPerBatch, f.Stream.SnowpipeOpensPerBatch = 1, 1
	r := estimate(t, a, f)
	if l := line(t, r, "Snowflake", "warehouse xs: MERGE of upserted tables"); !near(l.Quantity, 18.25) || !near(l.MonthlyUSD, 36.5) {
		t.Errorf("cadence MERGE %+v, want 18.25 credits, $36.50", l)
	}
	if l := line(t, r, "Snowflake", "Snowpipe Streaming ingest"); !near(l.MonthlyUSD, 0.0194472) {
		t.Errorf("Snowpipe ingest %+v, want $0.0194472", l)
	}
	if l := line(t, r, "Lambda", "stream function duration"); !near(l.Quantity, 70_956) {
		t.Errorf("stream duration %v GB-s, want 262,800 x 0.27 = 70,956", l.Quantity)
	}
}

// TestSnowpipeLookupsWakeTheWarehouse: a lookup query in one batch of
// ten (262,800 batches: 26,280 queries, one every 100 s) keeps the
// warehouse on 0.2 + 60 s each: 26,280 x 60.2 s = 439.46 h, $878.92; in
// every batch (one every 10 s) it never suspends: 730 h, which with the
// cadence merge's 18.25 h is more than the month, so both are scaled to
// it: 730 x 730 / 748.25 h for the lookups.
func TestSnowpipeLookupsWakeTheWarehouse(t *testing.T) {
	a, f := small()
	a.LoadMode, a.MergeEvery, a.MergeSeconds = LoadSnowpipe, time.Hour, 30
	for _, c := range []struct{ perBatch, hours float64 }{{0.1, 439.46}, {1, 730 * 730 / 748.25}} {
		f.Stream.SnowpipeQueriesPerBatch = c.perBatch
		r := estimate(t, a, f)
		if l := line(t, r, "Snowflake", "warehouse xs: stream lookups"); !near(l.Quantity, c.hours) || !near(l.MonthlyUSD, 2*c.hours) {
			t.Errorf("%v lookups a batch: %+v, want %v h", c.perBatch, l, c.hours)
		}
	}
}

// TestEstimateProvisionedDedupe: 28,119,600 writes / 2,628,000 s = 10.7/s,
// at 50% utilization 21.4, so 22 WCU x 730 h x $0.001 = $16.06; reads
// 0.2/s -> 0.4 -> 1 RCU x 730 x $0.0001 = $0.073.
func TestEstimateProvisionedDedupe(t *testing.T) {
	a, f := small()
	a.Dedupe, a.TargetUtilization = DedupeProvisioned, 0.5
	r := estimate(t, a, f)
	if l := line(t, r, "DynamoDB", "provisioned write capacity"); !near(l.Quantity, 16_060) || !near(l.MonthlyUSD, 16.06) {
		t.Errorf("provisioned writes %+v, want 16,060 WCU-hours, $16.06", l)
	}
	if l := line(t, r, "DynamoDB", "provisioned read capacity"); !near(l.MonthlyUSD, 0.073) {
		t.Errorf("provisioned reads %+v, want $0.073", l)
	}
}

// TestBatchesFillBeforeTheWindow: at 1,000 events/s on one topic, batches
// of 100 fill in 0.1 s, before a 10 s window: 10 batches a second.
func TestBatchesFillBeforeTheWindow(t *testing.T) {
	a, f := small()
	a.EventsPerSecond = 1000
	r := estimate(t, a, f)
	if l := line(t, r, "S3", "stream archive, quarantine and staging"); !near(l.Quantity, 10*SecondsPerMonth) {
		t.Errorf("PUTs %v, want 10 batches/s x 2,628,000 s = 26,280,000", l.Quantity)
	}
}

// TestEstimateStandardWorkflowFiles: 24 files a day = 730 files a month;
// 5 transitions each = 3,650 transitions at $0.0001 = $0.365.
func TestEstimateStandardWorkflowFiles(t *testing.T) {
	a, f := small()
	a.EventsPerSecond = 0
	a.FilesPerDay, a.FileMB, a.RecordBytes = 24, 1, 100
	f.File = FileFigures{Transitions: 5, Invocations: 5, S3Puts: 10, S3Gets: 4, DedupeWritesPer: 1, DedupeWritesFix: 2, Statements: 12}
	r := estimate(t, a, f)
	if l := line(t, r, "Step Functions", "standard workflow state transitions"); !near(l.Quantity, 3650) || !near(l.MonthlyUSD, 0.365) {
		t.Errorf("transitions %+v, want 3,650, $0.365", l)
	}
	// 730 files x 10,000 records (1 MB / 100 B) = 7,300,000 records;
	// writes 7,300,000 + 730 x 2.
	if l := line(t, r, "DynamoDB", "write request units"); !near(l.Quantity, 7_301_460) {
		t.Errorf("file writes %v, want 7,301,460", l.Quantity)
	}
	if r.RecordsPerMonth != 7_300_000 {
		t.Errorf("records a month %v, want 7,300,000", r.RecordsPerMonth)
	}
}

func TestCheckNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*Assumptions)
		field string
	}{
		{"negative rate", func(a *Assumptions) { a.EventsPerSecond = -1 }, "events-per-second"},
		{"load mode", func(a *Assumptions) { a.LoadMode = "copy" }, "load-mode"},
		{"dedupe", func(a *Assumptions) { a.Dedupe = "reserved" }, "dedupe"},
		{"kafka", func(a *Assumptions) { a.Kafka = "kinesis" }, "kafka"},
		{"files without size", func(a *Assumptions) { a.FilesPerDay, a.FileMB = 10, 0 }, "file-mb"},
		{"warehouse", func(a *Assumptions) { a.Warehouse = "xxl" }, "warehouse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := DefaultAssumptions()
			tc.set(&a)
			err := a.Check()
			if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
				t.Fatalf("Check() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
