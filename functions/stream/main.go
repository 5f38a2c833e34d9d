// Command stream is the function behind the MSK event-source mappings: each Kafka batch is decoded
// (JSON, or Avro through PULSE_SCHEMA_REGISTRY_URL), cleaned, deduplicated, archived, folded into
// windows and sessions and loaded into Snowflake (shared/handlers.Stream over shared/stream).
package main

import (
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/streamfn"
)

func main() { wire.Start("stream", streamfn.Build) }
