package stacks_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/pulse-analytics/pulse/infra/stacks"
	"github.com/pulse-analytics/pulse/shared/cost"
	"github.com/pulse-analytics/pulse/shared/handlers"
)

// TestStreamDedupeTTL: the stream function keeps its claims as long as
// Kafka can redeliver a record (7 days), not the files' 400 days; the
// cost model prices the same figure by default.
func TestStreamDedupeTTL(t *testing.T) {
	c := template(t, stacks.StreamingStackID)
	_, fn := c.byPath(t, "PulseStreaming/Stream")
	if got := env(fn)["PULSE_DEDUPE_TTL"]; got != "168h0m0s" {
		t.Errorf("stream PULSE_DEDUPE_TTL = %q, want 168h0m0s", got)
	}
	if got := cost.DefaultAssumptions().StreamDedupeTTL; got != stacks.DefaultStreamDedupeTTL {
		t.Errorf("the cost model prices stream claims kept %v, the deployment keeps them %v", got, stacks.DefaultStreamDedupeTTL)
	}
	_, clean := template(t, stacks.BatchStackID).byPath(t, "PulseBatch/Clean")
	if got, ok := env(clean)["PULSE_DEDUPE_TTL"]; ok {
		t.Errorf("clean PULSE_DEDUPE_TTL = %q, want unset (the 400-day default: a file can come again any time)", got)
	}
}

// TestCapacityContext: the context keys parse, and bad values are named.
func TestCapacityContext(t *testing.T) {
	lookup := deploymentContext
	t.Setenv("PULSE_LAMBDA_DIR", testCfg.LambdaDir)
	cfg, err := stacks.LoadConfig(lookup(map[string]string{stacks.ContextDedupeCapacity: "provisioned", stacks.ContextStreamDedupeTTL: "24h"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DedupeCapacity != stacks.CapacityProvisioned || cfg.StreamDedupeTTL != 24*time.Hour {
		t.Errorf("config %q %v", cfg.DedupeCapacity, cfg.StreamDedupeTTL)
	}
	for kv, want := range map[[2]string]string{
		{stacks.ContextDedupeCapacity, "reserved"}: `checking dedupeCapacity: "reserved" is not on-demand or provisioned`,
		{stacks.ContextStreamDedupeTTL, "7d"}:      `checking streamDedupeTtl: "7d" is not a duration`,
	} {
		_, err := stacks.LoadConfig(lookup(map[string]string{kv[0]: kv[1]}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: error %v, want %q", kv[0], kv[1], err, want)
		}
	}
}

// TestProvisionedCapacity: with dedupeCapacity=provisioned both state
// tables are provisioned and each of their read and write capacities is
// scaled by a target-tracking policy at 70% utilization.
func TestProvisionedCapacity(t *testing.T) {
	cfg := testCfg
	cfg.DedupeCapacity = stacks.CapacityProvisioned
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:enable-path-metadata": true}})
	st := stacks.NewStateStack(app, "D", &stacks.StateStackProps{Config: cfg})
	c := toCfn(t, assertions.Template_FromStack(st.Stack, nil))
	for _, name := range []string{"Dedupe", "WindowState"} {
		_, r := c.byPath(t, "D/"+name)
		// CloudFormation's default billing mode is provisioned: the template gives the throughput.
		pt, _ := r.Properties["ProvisionedThroughput"].(map[string]any)
		if b := r.Properties["BillingMode"]; (b != nil && b != "PROVISIONED") || pt == nil ||
			pt["ReadCapacityUnits"] != float64(stacks.ProvisionedMinCapacity) || pt["WriteCapacityUnits"] != float64(stacks.ProvisionedMinCapacity) {
			t.Errorf("%s: billing %v, throughput %v", name, b, pt)
		}
	}
	targets := c.ofType("AWS::ApplicationAutoScaling::ScalableTarget")
	dims := map[string]int{}
	for _, tg := range targets {
		dims[tg.Properties["ScalableDimension"].(string)]++
		if tg.Properties["MinCapacity"] != float64(stacks.ProvisionedMinCapacity) || tg.Properties["MaxCapacity"] != float64(stacks.ProvisionedMaxCapacity) {
			t.Errorf("scalable target bounds %v..%v", tg.Properties["MinCapacity"], tg.Properties["MaxCapacity"])
		}
	}
	if dims["dynamodb:table:WriteCapacityUnits"] != 2 || dims["dynamodb:table:ReadCapacityUnits"] != 2 {
		t.Errorf("scalable targets %v, want read and write of both tables", dims)
	}
	policies := c.ofType("AWS::ApplicationAutoScaling::ScalingPolicy")
	if len(policies) != 4 {
		t.Fatalf("%d scaling policies, want 4", len(policies))
	}
	for id, p := range policies {
		conf := p.Properties["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
		if conf["TargetValue"] != float64(stacks.ProvisionedTargetUtilization) {
			t.Errorf("%s: target %v, want %d", id, conf["TargetValue"], stacks.ProvisionedTargetUtilization)
		}
	}
}

// TestIdleTickRunsTheStreamTests: the idle tick's eventSource is the one the
// stream handler runs its data tests on, and the rule fires every minute
// (the handler runs them in the first minute of each interval).
func TestIdleTickRunsTheStreamTests(t *testing.T) {
	if stacks.IdleTickSource != handlers.IdleTickSource {
		t.Fatalf("infra sends eventSource %q, the handler waits for %q", stacks.IdleTickSource, handlers.IdleTickSource)
	}
	if got := cost.DefaultAssumptions().TestsEvery; got != handlers.DefaultStreamTestsEvery {
		t.Errorf("the cost model prices stream data tests every %v, the handler runs them every %v", got, handlers.DefaultStreamTestsEvery)
	}
	c := template(t, stacks.StreamingStackID)
	found := false
	for _, r := range c.ofType("AWS::Events::Rule") {
		if r.Properties["ScheduleExpression"] == "rate(1 minute)" && strings.Contains(fmt.Sprint(r.Properties["Targets"]), handlers.IdleTickSource) {
			found = true
		}
	}
	if !found {
		t.Error("no rule sends the idle tick every minute")
	}
}

// TestFailedBatchesKeptInRaw: a stream batch the mappings give up on is
// kept whole in the raw bucket (Lambda's S3 on-failure destination), the
// stream role may write it there, and every one is sent to the alarm
// topic by a rule on the raw bucket's Object Created under the prefix.
func TestFailedBatchesKeptInRaw(t *testing.T) {
	c := template(t, stacks.StreamingStackID)
	if n := len(c.ofType("AWS::SQS::Queue")); n != 0 {
		t.Errorf("%d SQS queues: the on-failure destination is the raw bucket", n)
	}
	sts := c.policies()[c.roleOf(t, "PulseStreaming/Stream")]
	if !grants(sts, "s3:PutObject", "Raw") {
		t.Errorf("the stream role may not put the failed batches into the raw bucket: %v", actionsOn(sts, "s3"))
	}
	if len(c.ofType("AWS::EC2::VPCEndpoint")) != 1 {
		t.Errorf("no S3 gateway endpoint in the new VPC: the mappings write failed batches from inside it")
	}
	o := template(t, stacks.ObservabilityStackID)
	found := false
	for _, r := range o.ofType("AWS::Events::Rule") {
		pat := fmt.Sprint(r.Properties["EventPattern"])
		if strings.Contains(pat, "Object Created") && strings.Contains(pat, stacks.FailedBatchPrefix) && strings.Contains(fmt.Sprint(r.Properties["Targets"]), "AlarmTopic") {
			found = true
		}
	}
	if !found {
		t.Error("no rule sends a failed stream batch's key to the alarm topic")
	}
}

// deploymentContext is a deployment's context (the Snowflake secret, MSK
// Serverless) plus kv, as cdk's --context would give it to LoadConfig.
func deploymentContext(kv map[string]string) func(string) string {
	return func(k string) string {
		switch k {
		case stacks.ContextSnowflakeSecretARN:
			return testSecretARN
		case stacks.ContextMSKServerless:
			return "true"
		}
		return kv[k]
	}
}
