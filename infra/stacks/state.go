package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// TTLAttribute is the DynamoDB TTL attribute of both state tables (epoch seconds).
const TTLAttribute = "expires_at"

// StateStackProps configures the state stack.
type StateStackProps struct {
	awscdk.StackProps
	// Config gives the tables' capacity mode (Config.DedupeCapacity).
	Config Config
}

// StateStack holds the DynamoDB tables: dedupe keys and window/session state.
type StateStack struct {
	awscdk.Stack
	Dedupe awsdynamodb.Table
	State  awsdynamodb.Table
}

// NewStateStack makes two tables (on-demand, or provisioned with autoscaling: Config.DedupeCapacity) keyed by the string attribute pk, with TTL on expires_at
// and point-in-time recovery.
func NewStateStack(scope constructs.Construct, id string, props *StateStackProps) *StateStack {
	var sp awscdk.StackProps
	var cfg Config
	if props != nil {
		sp, cfg = props.StackProps, props.Config
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	table := func(name string) awsdynamodb.Table {
		props := &awsdynamodb.TableProps{
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true),
			},
			TimeToLiveAttribute: jsii.String(TTLAttribute),
			Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
			RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		}
		cfg.tableCapacity(props)
		t := awsdynamodb.NewTable(stack, jsii.String(name), props)
		cfg.autoscale(t)
		return t
	}
	st := &StateStack{Stack: stack, Dedupe: table("Dedupe"), State: table("WindowState")}
	output(stack, "DedupeTableName", st.Dedupe.TableName())
	output(stack, "StateTableName", st.State.TableName())
	return st
}
