package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"
)

// Context keys of the state tables' cost settings (shared/cost models both
// modes: pulse cost --dedupe on-demand|provisioned).
const (
	// ContextDedupeCapacity is the capacity mode of the dedupe and state
	// tables: on-demand (the default: pay per request, nothing idle) or
	// provisioned (capacity units with target-tracking autoscaling, cheaper
	// at a steady event rate).
	ContextDedupeCapacity = "dedupeCapacity"
	// ContextStreamDedupeTTL is how long the stream function's dedupe claims
	// live (a Go duration, e.g. 168h).
	ContextStreamDedupeTTL = "streamDedupeTtl"
)

// Capacity modes of the state tables.
const (
	CapacityOnDemand    = "on-demand"
	CapacityProvisioned = "provisioned"
)

// DefaultStreamDedupeTTL is how long a stream record's dedupe claim lives:
// as long as Kafka can deliver the record again (MSK's default topic
// retention, 7 days), so no redelivery, retry or offset reset within the
// topic's retention loads a record twice. The batch files' claims keep the
// 400-day default (shared/wire.DefaultDedupeTTL): a file can be dropped
// again at any time. The stream's claims are most of the table's items, so
// this is most of its storage bill (pulse cost --stream-dedupe-ttl).
const DefaultStreamDedupeTTL = 7 * 24 * time.Hour

// Provisioned capacity bounds of each state table: autoscaling keeps the
// consumed units at ProvisionedTargetUtilization percent of the provisioned.
const (
	ProvisionedMinCapacity       = 5
	ProvisionedMaxCapacity       = 4000
	ProvisionedTargetUtilization = 70
)

// loadCapacity reads the state tables' cost settings from the context.
func (c *Config) loadCapacity(lookup func(string) string) error {
	c.DedupeCapacity = lookup(ContextDedupeCapacity)
	if v := lookup(ContextStreamDedupeTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return fmt.Errorf("checking %s: %q is not a duration of at least 1m (e.g. 168h)", ContextStreamDedupeTTL, v)
		}
		c.StreamDedupeTTL = d
	}
	return nil
}

// validateCapacity checks the capacity settings.
func (c Config) validateCapacity() error {
	switch c.DedupeCapacity {
	case "", CapacityOnDemand, CapacityProvisioned:
		return nil
	}
	return fmt.Errorf("checking %s: %q is not %s or %s", ContextDedupeCapacity, c.DedupeCapacity, CapacityOnDemand, CapacityProvisioned)
}

func (c Config) streamDedupeTTL() time.Duration {
	if c.StreamDedupeTTL > 0 {
		return c.StreamDedupeTTL
	}
	return DefaultStreamDedupeTTL
}

// provisioned reports whether the state tables use provisioned capacity.
func (c Config) provisioned() bool { return c.DedupeCapacity == CapacityProvisioned }

// tableCapacity sets a state table's billing mode in props.
func (c Config) tableCapacity(props *awsdynamodb.TableProps) {
	if !c.provisioned() {
		props.BillingMode = awsdynamodb.BillingMode_PAY_PER_REQUEST
		return
	}
	props.BillingMode = awsdynamodb.BillingMode_PROVISIONED
	props.ReadCapacity = jsii.Number(ProvisionedMinCapacity)
	props.WriteCapacity = jsii.Number(ProvisionedMinCapacity)
}

// autoscale makes a provisioned table's capacity follow its use.
func (c Config) autoscale(t awsdynamodb.Table) {
	if !c.provisioned() {
		return
	}
	bounds := &awsdynamodb.EnableScalingProps{MinCapacity: jsii.Number(ProvisionedMinCapacity), MaxCapacity: jsii.Number(ProvisionedMaxCapacity)}
	target := &awsdynamodb.UtilizationScalingProps{TargetUtilizationPercent: jsii.Number(ProvisionedTargetUtilization)}
	t.AutoScaleWriteCapacity(bounds).ScaleOnUtilization(target)
	t.AutoScaleReadCapacity(bounds).ScaleOnUtilization(target)
}
