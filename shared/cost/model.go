package cost

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Line is one priced quantity of the monthly bill.
type Line struct {
	Service    string  `json:"service"`
	Item       string  `json:"item"`
	Quantity   float64 `json:"quantity"` // per month
	Unit       string  `json:"unit"`
	UnitPrice  float64 `json:"unitPriceUSD"`
	MonthlyUSD float64 `json:"monthlyUSD"`
	PerMillion float64 `json:"perMillionEventsUSD"`
	Rate       string  `json:"rate"` // the price table key
}

// Report is the modeled monthly bill.
type Report struct {
	Assumptions     Assumptions `json:"assumptions"`
	EventsPerMonth  float64     `json:"eventsPerMonth"`  // stream events
	RecordsPerMonth float64     `json:"recordsPerMonth"` // file records
	Lines           []Line      `json:"lines"`
	MonthlyUSD      float64     `json:"monthlyUSD"`
	PerMillion      float64     `json:"perMillionEventsUSD"` // over stream events and file records
	Notes           []string    `json:"notes"`
}

// Services sums the lines by service, in the order they first appear.
func (r *Report) Services() []Line {
	var out []Line
	at := map[string]int{}
	for _, l := range r.Lines {
		i, ok := at[l.Service]
		if !ok {
			at[l.Service] = len(out)
			out = append(out, Line{Service: l.Service})
			i = len(out) - 1
		}
		out[i].MonthlyUSD += l.MonthlyUSD
		out[i].PerMillion += l.PerMillion
	}
	return out
}

// Largest returns the line costing most.
func (r *Report) Largest() Line {
	var best Line
	for _, l := range r.Lines {
		if l.MonthlyUSD > best.MonthlyUSD {
			best = l
		}
	}
	return best
}

// vcpus is the share of a vCPU Lambda gives a function of mb megabytes
// (1,769 MB is one vCPU).
func vcpus(mb int) float64 { return math.Min(float64(mb)/1769, 6) }

// Estimate prices a month of Pulse on AWS and Snowflake under a, with the
// measured figures f and the price table p.
func Estimate(a Assumptions, f MeasuredFigures, p *Prices) (*Report, error) {
	if err := a.Check(); err != nil {
		return nil, fmt.Errorf("checking the assumptions: %w", err)
	}
	m := &model{a: a, f: f, pr: &pricer{p: p}, r: &Report{Assumptions: a}}
	m.run()
	if len(m.pr.errs) > 0 {
		return nil, errors.Join(m.pr.errs...)
	}
	r := m.r
	// Group the lines by service, services in order of first appearance.
	first := map[string]int{}
	for i, l := range r.Lines {
		if _, ok := first[l.Service]; !ok {
			first[l.Service] = i
		}
	}
	sort.SliceStable(r.Lines, func(i, j int) bool { return first[r.Lines[i].Service] < first[r.Lines[j].Service] })
	units := r.EventsPerMonth + r.RecordsPerMonth
	for i := range r.Lines {
		r.MonthlyUSD += r.Lines[i].MonthlyUSD
		if units > 0 {
			r.Lines[i].PerMillion = r.Lines[i].MonthlyUSD / (units / 1e6)
		}
	}
	if units > 0 {
		r.PerMillion = r.MonthlyUSD / (units / 1e6)
	}
	return r, nil
}

type model struct {
	a  Assumptions
	f  MeasuredFigures
	pr *pricer
	r  *Report

	// warehouse activities: hours each would keep the warehouse on alone
	whItems []whItem

	logs                       float64 // log bytes
	ddbWrites, ddbReads        float64 // request units
	ddbItems, ddbFileItems     float64 // claims stored at steady state
	ddbItemBytes, storageBytes float64
}

type whItem struct {
	item  string
	hours float64
}

func (m *model) add(service, item string, quantity float64, rateKey string) {
	rate := m.pr.get(rateKey)
	m.r.Lines = append(m.r.Lines, Line{Service: service, Item: item, Quantity: quantity, Unit: rate.Unit,
		UnitPrice: rate.Value, MonthlyUSD: quantity * rate.Value, Rate: rateKey})
}

func (m *model) note(format string, args ...any) {
	m.r.Notes = append(m.r.Notes, fmt.Sprintf(format, args...))
}

func (m *model) run() {
	a := m.a
	m.r.EventsPerMonth = a.EventsPerSecond * SecondsPerMonth
	filesPerMonth := a.FilesPerDay * DaysPerMonth
	recordsPerFile := 0.0
	if a.FilesPerDay > 0 {
		recordsPerFile = a.FileMB * 1e6 / a.RecordBytes
	}
	m.r.RecordsPerMonth = filesPerMonth * recordsPerFile
	m.stream()
	if a.FilesPerDay > 0 {
		m.files(filesPerMonth, recordsPerFile)
	}
	m.warehouse()
	m.fixed()
}

// batchesPerSecond is the stream batches a second over every topic: a
// topic's mapping delivers a batch when it holds BatchSize records or its
// batching window ends, whichever comes first (events spread evenly over
// the topics).
func (m *model) batchesPerSecond() float64 {
	a := m.a
	if a.EventsPerSecond == 0 {
		return 0
	}
	perTopic := a.EventsPerSecond / float64(a.topics())
	total := 0.0
	for _, g := range a.TopicGroups {
		total += float64(len(g.Names)) * math.Max(perTopic/float64(g.BatchSize), 1/g.WindowSeconds)
	}
	return total
}

func (m *model) stream() {
	a, s := m.a, m.f.Stream
	events := m.r.EventsPerMonth
	batches := m.batchesPerSecond() * SecondsPerMonth
	ticks := 60 * HoursPerMonth
	perBatch := 0.0
	if batches > 0 {
		perBatch = events / batches
	}

	// The stream function's wall time: round trips in sequence, plus the
	// per-event CPU at the function's share of a vCPU.
	claimWaves := math.Ceil(perBatch * s.DedupeWritesPerEvent / float64(a.ClaimConcurrency))
	ddbTrips := s.StateLoadsPerBatch + s.StateSavesPerBatch + s.LeaseWritesPerBatch + s.DedupeWritesPerBatch + claimWaves
	batchSeconds := ddbTrips*a.DynamoDBSeconds + s.S3PutsPerBatch*a.S3PutSeconds +
		perBatch*m.f.CPU.StreamPerEvent/vcpus(a.StreamMemoryMB)
	switch a.LoadMode {
	case LoadMerge:
		batchSeconds += s.StatementsPerBatch() * a.StatementSeconds
	case LoadSnowpipe:
		// Its Snowpipe Streaming calls (each append waits for its commit)
		// and its lookups in the warehouse.
		batchSeconds += (s.SnowpipeAppendsPerBatch+s.SnowpipeOpensPerBatch)*a.AppendSeconds + s.SnowpipeQueriesPerBatch*a.StatementSeconds
	}
	tickSeconds := (s.TickStateLoads+s.TickLeaseWrites)*a.DynamoDBSeconds + s.TickMerges*5*a.StatementSeconds
	testRuns := 0.0 // on the idle tick: once per TestsEvery for the deployment (handlers.Stream)
	if a.TestsEvery > 0 && a.EventsPerSecond > 0 {
		testRuns = SecondsPerMonth / a.TestsEvery.Seconds()
	}
	gb := float64(a.StreamMemoryMB) / 1024
	m.add("Lambda", "stream function invocations (batches, idle ticks)", batches+ticks, "lambda.request")
	m.add("Lambda", fmt.Sprintf("stream function duration (%d MB, %.2f s a batch)", a.StreamMemoryMB, batchSeconds),
		gb*(batches*batchSeconds+ticks*tickSeconds+testRuns*float64(a.DataTests)*a.StatementSeconds), "lambda.arm.gb_second")
	m.logs += (batches + ticks) * a.LogBytesPerInvocation

	// DynamoDB: dedupe claims per event, Begin/Commit, state and leases per batch.
	writes := events*s.DedupeWritesPerEvent + batches*(s.DedupeWritesPerBatch+s.StateWCUPerBatch+s.LeaseWritesPerBatch) +
		ticks*(s.TickStateWCU+s.TickLeaseWrites)
	reads := batches*(s.DedupeReadsPerBatch+s.StateRCUPerBatch+s.LeaseRCUPerBatch) + ticks*(s.TickStateRCU+s.TickLeaseRCU)
	m.ddbWrites += writes
	m.ddbReads += reads
	claimsPerSecond := a.EventsPerSecond * s.DedupeWritesPerEvent
	m.ddbItems += claimsPerSecond * a.StreamDedupeTTL.Seconds()
	m.ddbItemBytes = s.DedupeItemBytes

	m.add("S3", "stream archive, quarantine and staging PUTs", batches*s.S3PutsPerBatch, "s3.put")
	m.add("S3", "stream archive storage (one month of data)", events*s.ArchiveBytesPerEvent/1e9, "s3.storage.gb_month")

	m.kafka(events, events*s.KafkaBytesPerEvent/1e9)

	// Warehouse activity of the stream.
	switch a.LoadMode {
	case LoadMerge:
		gap := math.Inf(1)
		if batches > 0 {
			gap = SecondsPerMonth / batches
		}
		work := s.StatementsPerBatch() * a.StatementSeconds
		m.whActivity("stream MERGE loads (every micro-batch)", batches, work, gap)
	case LoadSnowpipe:
		gb := events * (s.AppendValueBytesPerEvent + s.UpsertValueBytesPerEvent) / 1e9
		credits := gb * m.pr.get("snowflake.snowpipe_streaming.gb").Value
		m.add("Snowflake", fmt.Sprintf("Snowpipe Streaming ingest (%.1f GB of values, %s credits)", gb, fmtNum(credits)),
			credits, "snowflake.credit."+a.Edition)
		if a.EventsPerSecond > 0 {
			runs := SecondsPerMonth / a.MergeEvery.Seconds()
			m.whActivity(fmt.Sprintf("MERGE of upserted tables every %v", a.MergeEvery), runs, a.MergeSeconds, a.MergeEvery.Seconds())
		}
		if q := batches * s.SnowpipeQueriesPerBatch; q > 0 {
			m.whActivity("stream lookups between merges (users, carts, prices)", q, a.StatementSeconds, SecondsPerMonth/q)
		}
	}
	if testRuns > 0 {
		m.whActivity(fmt.Sprintf("stream data tests every %v (on the idle tick, once for the deployment)", a.TestsEvery),
			testRuns, a.TestsSeconds, SecondsPerMonth/testRuns)
	}
	m.storageBytes += events * (s.AppendValueBytesPerEvent + s.UpsertValueBytesPerEvent)
}

// whActivity records warehouse work: runs a month of work seconds each,
// gap seconds apart. A run is billed from resume to suspend (the work and
// the auto-suspend idle time, at least the minimum); runs closer than that
// keep the warehouse on.
func (m *model) whActivity(item string, runs, work, gap float64) {
	if runs <= 0 {
		return
	}
	minimum := m.pr.get("snowflake.warehouse.minimum_seconds").Value
	billed := math.Max(minimum, work+m.a.AutoSuspendSeconds)
	hours := runs * billed / 3600
	if gap <= work+m.a.AutoSuspendSeconds {
		hours = HoursPerMonth // never idle long enough to suspend
	}
	m.whItems = append(m.whItems, whItem{item: item, hours: math.Min(hours, HoursPerMonth)})
}

func (m *model) kafka(events, gbIn float64) {
	a := m.a
	partitions := float64(a.topics() * a.PartitionsPerTopic)
	retainedGB := gbIn / SecondsPerMonth * a.KafkaRetention.Seconds()
	switch a.Kafka {
	case KafkaServerless:
		m.add("MSK", "MSK Serverless cluster", HoursPerMonth, "msk.serverless.cluster_hour")
		m.add("MSK", fmt.Sprintf("partitions (%d)", int(partitions)), partitions*HoursPerMonth, "msk.serverless.partition_hour")
		m.add("MSK", "data in", gbIn, "msk.serverless.in_gb")
		m.add("MSK", "data out (one consumer group per topic)", gbIn, "msk.serverless.out_gb")
		m.add("MSK", fmt.Sprintf("storage (%s retention)", days(a.KafkaRetention)), retainedGB, "msk.serverless.storage_gb_month")
	case KafkaProvisioned:
		m.add("MSK", fmt.Sprintf("%d brokers %s", a.Brokers, a.BrokerType), float64(a.Brokers)*HoursPerMonth, "msk.broker."+a.BrokerType)
		replicas := math.Min(float64(a.Brokers), 3)
		m.add("MSK", fmt.Sprintf("broker storage (%s retention, %d replicas)", days(a.KafkaRetention), int(replicas)),
			math.Max(retainedGB*replicas, float64(a.Brokers)), "msk.broker.storage_gb_month")
	case KafkaExisting:
		m.note("Kafka: an existing cluster, not counted.")
	}
	if a.NewVPC && a.Kafka == KafkaServerless {
		m.add("VPC", "NAT gateway of the new VPC", HoursPerMonth, "vpc.nat_gateway_hour")
	}
}

func (m *model) files(filesPerMonth, recordsPerFile float64) {
	a, ff, cpu := m.a, m.f.File, m.f.CPU
	records := filesPerMonth * recordsPerFile
	claimWaves := math.Ceil(recordsPerFile * ff.DedupeWritesPer / float64(a.ClaimConcurrency))
	clean := recordsPerFile*cpu.CleanPerRecord/vcpus(a.CleanMemoryMB) + a.StepSeconds + claimWaves*a.DynamoDBSeconds
	modelS := recordsPerFile*cpu.ModelPerRecord/vcpus(a.ModelMemoryMB) + a.StepSeconds
	load := ff.Statements*a.StatementSeconds + a.StepSeconds
	trigger := a.StepSeconds
	gbSeconds := filesPerMonth * (float64(a.TriggerMemoryMB)*trigger + float64(a.CleanMemoryMB)*clean +
		float64(a.ModelMemoryMB)*modelS + float64(a.LoadMemoryMB)*load) / 1024
	m.add("Lambda", "batch function invocations", filesPerMonth*ff.Invocations, "lambda.request")
	m.add("Lambda", fmt.Sprintf("batch function duration (%.1f s a file)", trigger+clean+modelS+load), gbSeconds, "lambda.arm.gb_second")
	m.logs += filesPerMonth * ff.Invocations * a.LogBytesPerInvocation

	switch a.Workflow {
	case WorkflowStandard:
		m.add("Step Functions", "standard workflow state transitions", filesPerMonth*ff.Transitions, "sfn.standard.transition")
		m.logs += filesPerMonth * a.LogBytesPerExecution
	case WorkflowExpress:
		m.add("Step Functions", "express workflow requests", filesPerMonth, "sfn.express.request")
		seconds := math.Ceil((clean+modelS+load)*10) / 10
		m.add("Step Functions", "express workflow duration (64 MB)", filesPerMonth*seconds*64/1024, "sfn.express.gb_second")
		m.logs += filesPerMonth * a.LogBytesPerExecution
	}
	m.add("S3", "batch PUT and LIST requests", filesPerMonth*ff.S3Puts, "s3.put")
	m.add("S3", "batch GET and HEAD requests", filesPerMonth*ff.S3Gets, "s3.get")
	m.add("S3", "raw files storage (one month of files)", filesPerMonth*a.FileMB/1e3, "s3.storage.gb_month")
	m.ddbWrites += records*ff.DedupeWritesPer + filesPerMonth*ff.DedupeWritesFix
	m.ddbFileItems += records * ff.DedupeWritesPer / SecondsPerMonth * a.FileDedupeTTL.Seconds()
	m.whActivity("file loads and data tests", filesPerMonth, a.FileWarehouseSeconds, SecondsPerMonth/math.Max(filesPerMonth, 1))
	m.storageBytes += records * a.RecordBytes
}

func (m *model) warehouse() {
	a := m.a
	if a.GoldRunsPerDay > 0 {
		runs := a.GoldRunsPerDay * DaysPerMonth
		m.whActivity("daily gold and catalog workflows", runs, a.GoldSeconds, SecondsPerMonth/runs)
	}
	total := 0.0
	for _, it := range m.whItems {
		total += it.hours
	}
	scale := 1.0
	if total > HoursPerMonth {
		scale = HoursPerMonth / total
		m.note("Snowflake: the warehouse activities overlap; their hours are scaled to the %v hours it is on.", HoursPerMonth)
	}
	perHour := m.pr.get("snowflake.warehouse." + a.Warehouse).Value
	for _, it := range m.whItems {
		hours := it.hours * scale
		m.add("Snowflake", fmt.Sprintf("warehouse %s: %s (%.1f h, %s credits)", a.Warehouse, it.item, hours, fmtNum(hours*perHour)),
			hours*perHour, "snowflake.credit."+a.Edition)
	}
	m.add("Snowflake", fmt.Sprintf("storage of one month of data (values / %.0f)", a.CompressionRatio),
		m.storageBytes/a.CompressionRatio/1e12, "snowflake.storage.tb_month")
}

func (m *model) fixed() {
	a := m.a
	// DynamoDB: dedupe table and window-state table.
	switch a.Dedupe {
	case DedupeOnDemand:
		m.add("DynamoDB", "write request units (claims, transactions, window state, leases)", m.ddbWrites, "dynamodb.ondemand.write")
		m.add("DynamoDB", "read request units (window state, leases)", m.ddbReads, "dynamodb.ondemand.read")
	case DedupeProvisioned:
		wcu := math.Max(1, math.Ceil(m.ddbWrites/SecondsPerMonth/a.TargetUtilization))
		rcu := math.Max(1, math.Ceil(m.ddbReads/SecondsPerMonth/a.TargetUtilization))
		m.add("DynamoDB", fmt.Sprintf("provisioned write capacity (%d WCU at %.0f%% utilization)", int(wcu), a.TargetUtilization*100),
			wcu*HoursPerMonth, "dynamodb.provisioned.wcu_hour")
		m.add("DynamoDB", fmt.Sprintf("provisioned read capacity (%d RCU)", int(rcu)), rcu*HoursPerMonth, "dynamodb.provisioned.rcu_hour")
		m.note("DynamoDB provisioned: a steady rate is assumed; autoscaling follows the average, bursts above it are throttled or need headroom.")
	}
	items := m.ddbItems + m.ddbFileItems
	if items > 0 {
		gb := items * m.itemBytes() / 1e9
		m.add("DynamoDB", fmt.Sprintf("dedupe claims stored (%s items: stream TTL %v, files %v)", fmtNum(items), days(a.StreamDedupeTTL), days(a.FileDedupeTTL)),
			gb, "dynamodb.storage.gb_month")
		if a.PITR {
			m.add("DynamoDB", "point-in-time recovery of the stored claims", gb, "dynamodb.pitr.gb_month")
		}
	}
	m.add("CloudWatch", "log ingestion (Lambda platform lines, workflow logs)", m.logs/1e9, "cloudwatch.logs.ingest_gb")
	m.add("Secrets Manager", "the Snowflake key pair", 1, "secretsmanager.secret_month")
}

func (m *model) itemBytes() float64 {
	if m.ddbItemBytes > 0 {
		return m.ddbItemBytes
	}
	return m.f.Stream.DedupeItemBytes
}

func days(d interface{ Hours() float64 }) string {
	h := d.Hours()
	if h >= 48 {
		return fmt.Sprintf("%.0f days", h/24)
	}
	if h >= 1 {
		return fmt.Sprintf("%.0f h", h)
	}
	return fmt.Sprintf("%.0f min", h*60)
}
