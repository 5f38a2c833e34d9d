package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// Stack IDs of the app.
const (
	StorageStackID       = "PulseStorage"
	StateStackID         = "PulseState"
	StreamingStackID     = "PulseStreaming"
	BatchStackID         = "PulseBatch"
	CatalogStackID       = "PulseCatalog"
	GoldStackID          = "PulseGold"
	ObservabilityStackID = "PulseObservability"
)

// Pulse is the whole app's stacks.
type Pulse struct {
	Storage       *StorageStack
	State         *StateStack
	Streaming     *StreamingStack
	Batch         *BatchStack
	Catalog       *CatalogStack
	Gold          *GoldStack
	Observability *ObservabilityStack
	QuickSight    *QuickSightStack // nil unless Config.QuickSight.Enabled
}

// NewPulse adds every stack to scope. env may be nil (environment-agnostic), except that a VPCID
// lookup needs an account and region. cfg must have passed Validate.
func NewPulse(scope constructs.Construct, cfg Config, env *awscdk.Environment) *Pulse {
	sp := awscdk.StackProps{Env: env}
	p := &Pulse{}
	p.Storage = NewStorageStack(scope, StorageStackID, &StorageStackProps{StackProps: sp})
	p.State = NewStateStack(scope, StateStackID, &StateStackProps{StackProps: sp, Config: cfg})
	p.Streaming = NewStreamingStack(scope, StreamingStackID, &StreamingStackProps{StackProps: sp, Config: cfg, Storage: p.Storage, State: p.State})
	p.Batch = NewBatchStack(scope, BatchStackID, &BatchStackProps{StackProps: sp, Config: cfg, Storage: p.Storage, State: p.State})
	p.Catalog = NewCatalogStack(scope, CatalogStackID, &CatalogStackProps{StackProps: sp, Config: cfg, Storage: p.Storage, Streaming: p.Streaming})
	p.Gold = NewGoldStack(scope, GoldStackID, &GoldStackProps{StackProps: sp, Config: cfg, Storage: p.Storage, State: p.State})
	p.Observability = NewObservabilityStack(scope, ObservabilityStackID, &ObservabilityStackProps{
		StackProps: sp,
		Functions: []NamedFunction{
			{"Trigger", p.Batch.Trigger}, {"Clean", p.Batch.Clean}, {"Model", p.Batch.Model}, {"Load", p.Batch.Load},
			{"DataTests", p.Batch.DataTests}, {"Stream", p.Streaming.Function}, {"Catalog", p.Catalog.Function}, {"Gold", p.Gold.Function},
			{"Schema", p.Batch.Schema}, {"Topics", p.Streaming.Topics},
		},
		StreamFunction: p.Streaming.Function,
		RawBucket:      p.Storage.Raw,
		StateMachines: []NamedStateMachine{
			{"Batch", p.Batch.StateMachine}, {"Catalog", p.Catalog.StateMachine}, {"Gold", p.Gold.StateMachine},
		},
	})
	if cfg.QuickSight.Enabled {
		p.QuickSight = NewQuickSightStack(scope, QuickSightStackID, &QuickSightStackProps{StackProps: sp, Config: cfg})
	}
	return p
}
