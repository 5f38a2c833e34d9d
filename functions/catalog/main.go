// Command catalog is the movie-catalog workflow's task: it reads a
// Movies.txt from the raw bucket and produces movies_catalog_enriched
// events to MSK (JSON, or Avro when PULSE_SCHEMA_REGISTRY_URL is set).
package main

import (
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/catalogfn"
)

func main() { wire.Start("catalog", catalogfn.Build) }
