package stacks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/pulse-analytics/pulse/infra/stacks"
	"github.com/pulse-analytics/pulse/shared/wire/streamfn"
)

// TestLoadModeContext: -c loadMode=snowpipe (and mergeEvery) reach the
// stream function as PULSE_LOAD_MODE and PULSE_MERGE_EVERY; the default
// template has neither (the merge mode); bad values are named.
func TestLoadModeContext(t *testing.T) {
	_, fn := template(t, stacks.StreamingStackID).byPath(t, "PulseStreaming/Stream")
	for _, k := range []string{streamfn.EnvLoadMode, streamfn.EnvMergeEvery} {
		if got, ok := env(fn)[k]; ok {
			t.Errorf("default stream %s = %q, want unset", k, got)
		}
	}
	lookup := deploymentContext
	t.Setenv("PULSE_LAMBDA_DIR", testCfg.LambdaDir)
	cfg, err := stacks.LoadConfig(lookup(map[string]string{stacks.ContextLoadMode: "snowpipe", stacks.ContextMergeEvery: "30m"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LoadMode != stacks.LoadModeSnowpipe || cfg.MergeEvery != 30*time.Minute {
		t.Errorf("config %q %v", cfg.LoadMode, cfg.MergeEvery)
	}
	for kv, want := range map[[2]string]string{
		{stacks.ContextLoadMode, "pipe"}:  `checking loadMode: "pipe" is not merge or snowpipe`,
		{stacks.ContextMergeEvery, "30"}:  `checking mergeEvery: "30" is not a duration`,
		{stacks.ContextMergeEvery, "10s"}: `checking mergeEvery: "10s" is not a duration of at least 1m`,
	} {
		_, err := stacks.LoadConfig(lookup(map[string]string{kv[0]: kv[1]}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: error %v, want %q", kv[0], kv[1], err, want)
		}
	}
	cfg = testCfg
	cfg.LoadMode = stacks.LoadModeSnowpipe
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:enable-path-metadata": true}})
	st := stacks.NewStreamingStack(app, "K", &stacks.StreamingStackProps{Config: cfg,
		Storage: stacks.NewStorageStack(app, "S", nil), State: stacks.NewStateStack(app, "D", nil)})
	_, fn = toCfn(t, assertions.Template_FromStack(st.Stack, nil)).byPath(t, "K/Stream")
	e := env(fn)
	if e[streamfn.EnvLoadMode] != "snowpipe" || e[streamfn.EnvMergeEvery] != "15m0s" || e["SNOWFLAKE_PRIVATE_KEY_SECRET"] == "" {
		t.Errorf("snowpipe stream env: %s=%q %s=%q", streamfn.EnvLoadMode, e[streamfn.EnvLoadMode], streamfn.EnvMergeEvery, e[streamfn.EnvMergeEvery])
	}
}
