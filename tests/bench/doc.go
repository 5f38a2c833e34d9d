// Package bench measures Pulse's batch path: Clean+Model records per
// second per core and bytes allocated per record over NDJSON, CSV and
// Parquet files of a million rows and more, side by side with the same
// cleaning written in DuckDB SQL (the yardstick), and the peak memory of
// a run over a 1 GiB NDJSON file.
//
// The fixtures are generated once by events/batchgen into bench-out/ (git
// ignored) and reused. The pipeline runs through the real use cases
// (batch.Clean and batch.Model) over a filesystem object store
// (shared/adapters/fsstore), which streams instead of keeping objects in
// memory as gofakes3 does.
//
//	make bench                                   # everything, a few minutes
//	go test ./bench -run '^$' -bench . -benchtime 1x -cpu 1
//	go run ./cmd/pulse-bench rss                 # peak RSS over 1 GiB of NDJSON
//
// See docs/performance.md for the figures and how they were measured.
package bench
