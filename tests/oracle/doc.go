// Package oracle is the oracle test: a fixed, seeded data set from
// events/batchgen (three rounds of dirty files over six weeks, plus a file
// of seed-002 edge cases) goes through the real batch path on the local
// stack (S3 notifications, Clean, Model, Load, data tests), then the gold
// backfill; every number of the batch-fed dashboard views is compared with
// an independent computation over the raw generated files
// (expect_test.go).
//
// TestStreamOracle (stream_test.go) does the same for the stream-fed views
// (seeds 001, 003, 004): a fixed seeded simulator stream, with duplicates,
// late events, malformed messages and hand-written edge records, goes
// through the local stack's Kafka, event-source mappings and stream path;
// every row and column of those views is compared with an independent
// computation over the produced events (stream_expect_test.go,
// stream_views_test.go).
//
// The stream rules both oracles need, the window engine (windows.go) and
// the sign-in/sign-out sessions (sessions.go), are this package's
// non-test part: tests/e2e imports them for its own stream oracle, so
// the rules are written once.
package oracle
