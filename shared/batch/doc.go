// Package pipeline holds Pulse's use cases and the ports they need.
//
// The batch path is Clean (raw file -> staging Parquet + rejects + manifest),
// Model (staging -> star-schema Parquet under curated/) and Load (curated ->
// warehouse MERGE). Each step is a plain function over the ports in
// ports.go; Lambda handlers in functions/ and the local stack in cmd/pulse
// call the same functions. Nothing here imports an AWS SDK or Lambda type.
package pipeline
