// Package batch holds Pulse's batch use cases, over the ports of
// shared/port.
//
// The batch path is Clean (raw file -> staging Parquet + rejects + manifest;
// Split, CleanChunk and Combine for a large file), Model (staging ->
// star-schema Parquet under curated/), Load (curated -> warehouse MERGE) and
// DataTests; QuarantineFile and AbandonFile give a file up, Replay cleans
// its quarantined records again. Raw objects are opened in one place
// (read.go: format detection, gzip, chunks). Each step is a plain function
// over an Env of ports; the Lambda handlers of shared/handlers and the
// local stack in cmd/pulse call the same functions. Nothing here imports an
// AWS SDK or Lambda type.
package batch
