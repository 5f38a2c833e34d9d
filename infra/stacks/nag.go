package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// StacksByID lists the app's stacks by stack ID.
func (p *Pulse) StacksByID() map[string]awscdk.Stack {
	m := map[string]awscdk.Stack{
		StorageStackID: p.Storage.Stack, StateStackID: p.State.Stack, StreamingStackID: p.Streaming.Stack,
		BatchStackID: p.Batch.Stack, CatalogStackID: p.Catalog.Stack, GoldStackID: p.Gold.Stack,
		ObservabilityStackID: p.Observability.Stack,
	}
	if p.QuickSight != nil {
		m[QuickSightStackID] = p.QuickSight.Stack
	}
	return m
}

// Nag suppressions: each names the finding it accepts, as narrowly as cdk-nag allows, and why.
var (
	suppressObjectARNs = &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Object-level grants name exact actions (s3:GetObject, s3:PutObject, ...) on the objects " +
			"under one prefix of one bucket; an object ARN needs the trailing '*' to cover the keys under the prefix."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{
			Regex: jsii.String(`/^Resource::(<[A-Za-z0-9]+\.Arn>|PulseStorage:ExportsOutputFnGetAtt[A-Za-z0-9]+)\/([a-z_]+\/)*\*$/`),
		}},
	}
	suppressFunctionVersions = &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("tasks.LambdaInvoke grants lambda:InvokeFunction on one function and its versions " +
			"(<function ARN>:*); the wildcard covers qualifiers of that function only."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>:\*$/`)}},
	}
	suppressStateMachineDelivery = &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Step Functions log delivery (logs:CreateLogDelivery, logs:DescribeResourcePolicies, ...) and " +
			"X-Ray (xray:PutTraceSegments, ...) do not support resource-level permissions; AWS documents Resource '*'."),
		AppliesTo: &[]interface{}{"Resource::*"},
	}
	suppressDistributedMap = &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("A Distributed Map manages its child executions, whose ARNs are only known at run time; " +
			"CDK scopes the grant to executions of this state machine."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{
			Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*$/`),
		}},
	}
)

// AddNagSuppressions records, with reasons, the cdk-nag AwsSolutions findings Pulse accepts.
func AddNagSuppressions(p *Pulse) {
	for _, st := range p.StacksByID() {
		cdknag.NagSuppressions_AddStackSuppressions(st, &[]*cdknag.NagPackSuppression{suppressObjectARNs, suppressFunctionVersions}, nil)
	}
	for _, sm := range []struct {
		stack awscdk.Stack
		path  string
	}{
		{p.Batch.Stack, "/PulseBatch/BatchWorkflow/Role/DefaultPolicy/Resource"},
		{p.Catalog.Stack, "/PulseCatalog/CatalogWorkflow/Role/DefaultPolicy/Resource"},
		{p.Gold.Stack, "/PulseGold/GoldWorkflow/Role/DefaultPolicy/Resource"},
	} {
		cdknag.NagSuppressions_AddResourceSuppressionsByPath(sm.stack, jsii.String(sm.path),
			&[]*cdknag.NagPackSuppression{suppressStateMachineDelivery}, nil)
	}
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(p.Batch.Stack, jsii.String("/PulseBatch/BatchWorkflow/DistributedMapPolicy/Resource"),
		&[]*cdknag.NagPackSuppression{suppressDistributedMap}, nil)

	// CDK's bucket-notifications custom resource (its own Lambda, role and policy).
	cdknag.NagSuppressions_AddResourceSuppressions(p.Batch.Stack.Node().FindChild(jsii.String(notificationsHandlerID)), &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("CDK's BucketNotificationsHandler custom resource uses AWSLambdaBasicExecutionRole; it runs only during deployment to set the raw bucket's notifications."),
			AppliesTo: &[]interface{}{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("CDK's BucketNotificationsHandler needs s3:PutBucketNotification on the imported bucket, which CDK grants on '*'."),
			AppliesTo: &[]interface{}{"Resource::*"}},
	}, jsii.Bool(true))

	cdknag.NagSuppressions_AddResourceSuppressions(p.Streaming.Function.Role(), &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("CDK attaches AWSLambdaMSKExecutionRole for the MSK event-source mapping: the poller needs ec2 network-interface actions, which have no resource-level permissions. Topic/group access is granted separately on exact ARNs."),
			AppliesTo: &[]interface{}{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole"}},
	}, jsii.Bool(true))
	if p.Streaming.VPC != nil {
		cdknag.NagSuppressions_AddResourceSuppressions(p.Catalog.Function.Role(), &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("CDK attaches AWSLambdaVPCAccessExecutionRole to a function in a VPC: ENI actions have no resource-level permissions."),
				AppliesTo: &[]interface{}{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}},
		}, jsii.Bool(true))
	}
}

// notificationsHandlerID is the construct ID CDK gives its S3 bucket-notifications handler.
const notificationsHandlerID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
