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
}

// StateStack holds the DynamoDB tables: dedupe keys and window/session state.
type StateStack struct {
	awscdk.Stack
	Dedupe awsdynamodb.Table
	State  awsdynamodb.Table
}

// NewStateStack makes two on-demand tables keyed by the string attribute pk, with TTL on expires_at
// and point-in-time recovery.
func NewStateStack(scope constructs.Construct, id string, props *StateStackProps) *StateStack {
	var sp awscdk.StackProps
	if props != nil {
		sp = props.StackProps
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	table := func(name string) awsdynamodb.Table {
		return awsdynamodb.NewTable(stack, jsii.String(name), &awsdynamodb.TableProps{
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
			BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true),
			},
			TimeToLiveAttribute: jsii.String(TTLAttribute),
			Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
			RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		})
	}
	st := &StateStack{Stack: stack, Dedupe: table("Dedupe"), State: table("WindowState")}
	output(stack, "DedupeTableName", st.Dedupe.TableName())
	output(stack, "StateTableName", st.State.TableName())
	return st
}
