package cost

// StreamFigures are the stream path's resource figures per event and per
// batch, measured by tests/costfigures.TestStreamFigures: the seeded
// simulator's 20,000 events (2% duplicates, 2% late, 1% malformed) in
// per-topic batches of the default topic groups, through the stream use
// case over in-process stores wrapped in counters:
//
//	go test -tags minicore_disabled ./tests/costfigures -run TestStreamFigures -v
//
// That test fails when a change moves a figure: update it here.
type StreamFigures struct {
	KafkaBytesPerEvent   float64 // mean message value, JSON (Avro ones are smaller)
	ArchiveBytesPerEvent float64 // raw archive (stream/<topic>/...) bytes put to S3
	S3PutsPerBatch       float64 // archive per topic partition, quarantine when a batch has rejects, staging per topic

	// Dedupe table: one conditional PutItem per distinct key claimed
	// (a duplicate's failed conditional put consumes a write too), Begin
	// and Commit per batch, State reads (none without held keys).
	DedupeWritesPerEvent float64
	DedupeWritesPerBatch float64
	DedupeReadsPerBatch  float64
	DedupeItemBytes      float64 // stored bytes of one claim item, with DynamoDB's 100 bytes of overhead

	// Window-state table: loads and saves of processor states (gzip, the
	// units are 4 KB reads and 1 KB writes of those sizes) and lease writes.
	StateLoadsPerBatch         float64
	StateRCUPerBatch           float64
	StateSavesPerBatch         float64
	StateWCUPerBatch           float64
	LeaseWritesPerBatch        float64
	LeaseRCUPerBatch           float64
	StateSaveBytesPerBatchMean float64

	// Warehouse: Merge calls per batch (CREATE TEMPORARY TABLE, PUT,
	// COPY INTO, MERGE and DROP each in the Snowflake adapter), loads
	// (BEGIN, COMMIT and those five per table staged) and lookup queries.
	MergesPerBatch  float64
	LoadsPerBatch   float64
	TablesPerLoad   float64
	QueriesPerBatch float64

	// Rows and their values as text (what Snowpipe Streaming bills) per
	// event: appended tables (facts, events, rejects, late events,
	// manifests) and upserted ones (dimensions, window metrics, sessions,
	// users), which stay on MERGE in the Snowpipe load mode.
	AppendRowsPerEvent       float64
	AppendValueBytesPerEvent float64
	UpsertRowsPerEvent       float64
	UpsertValueBytesPerEvent float64

	EventsPerMeasuredBatch float64

	// One idle tick (the once-a-minute empty batch): state loads and
	// their units, lease writes, warehouse loads.
	TickStateLoads  float64
	TickStateRCU    float64
	TickStateWCU    float64
	TickLeaseWrites float64
	TickLeaseRCU    float64
	TickMerges      float64
}

// FileFigures are the batch path's figures per file, measured by
// tests/stepfunctions.TestCostFiguresPerFile: a generated dirty
// video_interactions NDJSON file dropped into the local stack, the
// synthesized batch state machine run by aws-local-stepfunctions with its
// Task states calling the real handlers over counting stores:
//
//	go test -tags minicore_disabled ./tests/stepfunctions -run TestCostFiguresPerFile -v
type FileFigures struct {
	Transitions     float64 // state transitions of a small file (FileSize, Clean, Model, Load, DataTests)
	Invocations     float64 // Lambda invocations, trigger included
	S3Puts          float64 // PUT and LIST requests
	S3Gets          float64 // GET and HEAD requests
	DedupeWritesPer float64 // dedupe writes per record (one per distinct key)
	DedupeWritesFix float64 // dedupe writes per file (Begin, Commit)
	Statements      float64 // warehouse round trips of Load and DataTests (Snowflake adapter statements)
}

// CPUFigures are CPU seconds per unit of work on one core of this machine
// (2 vCPUs AMD EPYC, amd64; Lambda runs arm64 Graviton, not measured).
type CPUFigures struct {
	// StreamPerEvent: BenchmarkStreamCPU in tests/costfigures (getrusage,
	// so the machine's load moves it less than wall time):
	//
	//	go test -tags minicore_disabled ./tests/costfigures -run '^$' -bench BenchmarkStreamCPU -benchtime 5x -cpu 1
	StreamPerEvent float64
	// CleanPerRecord and ModelPerRecord: tests/bench (make bench), the
	// NDJSON run of tests/bench/README.md: Clean alone 119,123 records/s,
	// Clean+Model 66,600 records/s on one core.
	CleanPerRecord float64
	ModelPerRecord float64
}

// MeasuredFigures holds every measured figure the model uses.
type MeasuredFigures struct {
	Stream StreamFigures
	File   FileFigures
	CPU    CPUFigures
}

// Figures are the committed measurements (see each type for the command
// that produced them).
var Figures = MeasuredFigures{
	Stream: StreamFigures{
		KafkaBytesPerEvent: 213.1, ArchiveBytesPerEvent: 281.7, S3PutsPerBatch: 2.947,
		DedupeWritesPerEvent: 0.908, DedupeWritesPerBatch: 1.789, DedupeReadsPerBatch: 0, DedupeItemBytes: 228,
		StateLoadsPerBatch: 1, StateRCUPerBatch: 1.316, StateSavesPerBatch: 1, StateWCUPerBatch: 4.079,
		LeaseWritesPerBatch: 2, LeaseRCUPerBatch: 1, StateSaveBytesPerBatchMean: 3537,
		MergesPerBatch: 0, LoadsPerBatch: 1, TablesPerLoad: 4.921, QueriesPerBatch: 0.158,
		AppendRowsPerEvent: 0.919, AppendValueBytesPerEvent: 176.6, UpsertRowsPerEvent: 1.405, UpsertValueBytesPerEvent: 63.7,
		EventsPerMeasuredBatch: 526.3,
		TickStateLoads:         12, TickStateRCU: 24, TickStateWCU: 1, TickLeaseWrites: 24, TickLeaseRCU: 12, TickMerges: 0,
	},
	File: FileFigures{ // one file of 1,001 records (680 KB)
		Transitions: 5, Invocations: 5, S3Puts: 15, S3Gets: 16, DedupeWritesPer: 0.918, DedupeWritesFix: 3, Statements: 66,
	},
	CPU: CPUFigures{
		StreamPerEvent: 13083e-9, // best of two runs: 13,083 and 13,415 cpu-ns/event (load average 9)
		CleanPerRecord: 1.0 / 119123,
		ModelPerRecord: 1.0/66600 - 1.0/119123,
	},
}

// StatementsPerBatch is the Snowflake statements (round trips) one stream
// batch makes in the MERGE load mode (shared/adapters/snowflake: five per
// Merge call, BEGIN and COMMIT plus five per staged table per load).
func (f StreamFigures) StatementsPerBatch() float64 {
	return 5*f.MergesPerBatch + f.LoadsPerBatch*(2+5*f.TablesPerLoad) + f.QueriesPerBatch
}
