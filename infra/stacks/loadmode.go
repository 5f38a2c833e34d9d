package stacks

import (
	"fmt"
	"time"

	"github.com/aws/jsii-runtime-go"
)

// Context keys of the stream function's load mode (shared/stream.LoadMode;
// pulse cost --load-mode models both).
const (
	// ContextLoadMode is merge (the default: a warehouse MERGE transaction
	// per stream batch) or snowpipe (facts appended through Snowpipe
	// Streaming, no warehouse per batch; the other tables staged and merged
	// every ContextMergeEvery).
	ContextLoadMode = "loadMode"
	// ContextMergeEvery is the snowpipe mode's cadence merge (a Go
	// duration; default 15m).
	ContextMergeEvery = "mergeEvery"
)

// Load modes of the stream function.
const (
	LoadModeMerge    = "merge"
	LoadModeSnowpipe = "snowpipe"
)

// loadLoadMode reads the load mode settings from the context.
func (c *Config) loadLoadMode(lookup func(string) string) error {
	c.LoadMode = lookup(ContextLoadMode)
	if v := lookup(ContextMergeEvery); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return fmt.Errorf("checking %s: %q is not a duration of at least 1m (e.g. 15m)", ContextMergeEvery, v)
		}
		c.MergeEvery = d
	}
	return nil
}

func (c Config) validateLoadMode() error {
	switch c.LoadMode {
	case "", LoadModeMerge, LoadModeSnowpipe:
		return nil
	}
	return fmt.Errorf("checking %s: %q is not %s or %s", ContextLoadMode, c.LoadMode, LoadModeMerge, LoadModeSnowpipe)
}

// loadModeEnv is the stream function's environment for the load mode:
// nothing in the default merge mode (the template stays as it was), and
// PULSE_LOAD_MODE and PULSE_MERGE_EVERY (shared/wire/streamfn) in the
// snowpipe mode. The Snowpipe Streaming client uses the Snowflake settings
// and key the function has already (SNOWFLAKE_ACCOUNT, _USER, _DATABASE,
// _SCHEMA, _HOST/_PORT/_PROTOCOL, SNOWFLAKE_PRIVATE_KEY_SECRET): no other
// AWS permission; on Snowflake's side its user's default role needs
// INSERT on the appended tables and their _STAGING tables (and CREATE
// TABLE in the schema, once, for the staging tables: infra/README.md).
func (c Config) loadModeEnv() map[string]*string {
	if c.LoadMode != LoadModeSnowpipe {
		return nil
	}
	every := c.MergeEvery
	if every == 0 {
		every = 15 * time.Minute
	}
	return map[string]*string{"PULSE_LOAD_MODE": jsii.String(LoadModeSnowpipe), "PULSE_MERGE_EVERY": jsii.String(every.String())}
}
