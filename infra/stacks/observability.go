package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// OffsetLagThreshold is the Kafka OffsetLag (records behind) that raises the stream alarm.
const OffsetLagThreshold = 10000

// NamedFunction and NamedStateMachine label what the observability stack watches.
type (
	NamedFunction struct {
		Name     string
		Function awslambda.IFunction
	}
	NamedStateMachine struct {
		Name         string
		StateMachine sfn.IStateMachine
	}
)

// ObservabilityStackProps lists what to watch.
type ObservabilityStackProps struct {
	awscdk.StackProps
	Functions      []NamedFunction
	StreamFunction awslambda.IFunction
	// RawBucket receives the stream's failed batches under FailedBatchPrefix.
	RawBucket     awss3.IBucket
	StateMachines []NamedStateMachine
}

// ObservabilityStack holds the alarms, their SNS topic and the dashboard.
type ObservabilityStack struct {
	awscdk.Stack
	AlarmTopic awssns.Topic
	Alarms     []awscloudwatch.Alarm
	Dashboard  awscloudwatch.Dashboard
}

// NewObservabilityStack makes one alarm per function on Errors, one on the stream function's Kafka
// OffsetLag, a notification per stream batch kept as failed, one per workflow on ExecutionsFailed (all to AlarmTopic), and a
// dashboard "Pulse" showing the same metrics.
func NewObservabilityStack(scope constructs.Construct, id string, props *ObservabilityStackProps) *ObservabilityStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	o := &ObservabilityStack{Stack: stack}
	key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description: jsii.String("Pulse alarm notifications"), EnableKeyRotation: jsii.Bool(true),
	})
	// CloudWatch publishes alarms to the encrypted topic, so it may use the key.
	key.Grant(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil),
		jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"))
	o.AlarmTopic = awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		MasterKey: key, EnforceSSL: jsii.Bool(true), DisplayName: jsii.String("Pulse alarms"),
	})
	output(stack, "AlarmTopicArn", o.AlarmTopic.TopicArn())
	action := awscloudwatchactions.NewSnsAction(o.AlarmTopic)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id string, metric awscloudwatch.IMetric, threshold float64, periods float64, desc string) {
		a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(desc),
		})
		a.AddAlarmAction(action)
		o.Alarms = append(o.Alarms, a)
	}

	var errorMetrics, durationMetrics []awscloudwatch.IMetric
	for _, f := range props.Functions {
		m := f.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum"), Label: jsii.String(f.Name)})
		alarm(f.Name+"Errors", m, 1, 1, "Pulse "+f.Name+" function errors")
		errorMetrics = append(errorMetrics, m)
		durationMetrics = append(durationMetrics, f.Function.MetricDuration(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p99"), Label: jsii.String(f.Name)}))
	}
	lag := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/Lambda"),
		MetricName:    jsii.String("OffsetLag"),
		DimensionsMap: &map[string]*string{"FunctionName": props.StreamFunction.FunctionName()},
		Statistic:     jsii.String("Maximum"),
		Period:        five,
	})
	alarm("StreamOffsetLag", lag, OffsetLagThreshold, 3, "Pulse stream function is falling behind its Kafka topics")
	// A stream batch the mappings gave up on lands whole in the raw bucket: every one is sent to the
	// alarm topic with its key, and counted on the dashboard.
	key.Grant(awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"))
	failedRule := awsevents.NewRule(stack, jsii.String("StreamBatchFailed"), &awsevents.RuleProps{
		Description: jsii.String("Pulse: a stream batch failed every retry and was kept in the raw bucket (replay it: infra/README.md)"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]interface{}{
				"bucket": map[string]interface{}{"name": []interface{}{props.RawBucket.BucketName()}},
				"object": map[string]interface{}{"key": []interface{}{map[string]interface{}{"prefix": FailedBatchPrefix}}},
			},
		},
	})
	failedRule.AddTarget(awseventstargets.NewSnsTopic(o.AlarmTopic, &awseventstargets.SnsTopicProps{
		Message: awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf("Pulse: a stream batch failed every retry and was kept whole at s3://%s/%s; replay it once the cause is fixed (infra/README.md, \"Failed stream batches\").",
			*awsevents.EventField_FromPath(jsii.String("$.detail.bucket.name")), *awsevents.EventField_FromPath(jsii.String("$.detail.object.key"))))),
	}))
	depth := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("MatchedEvents"),
		DimensionsMap: &map[string]*string{"RuleName": failedRule.RuleName()},
		Statistic:     jsii.String("Sum"), Period: five, Label: jsii.String("failed stream batches kept"),
	})
	alarm("StreamBatchesFailed", depth, 1, 1, "Pulse stream batches failed every retry and were kept in the raw bucket under "+FailedBatchPrefix)
	var failedMetrics []awscloudwatch.IMetric
	for _, s := range props.StateMachines {
		m := s.StateMachine.MetricFailed(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum"), Label: jsii.String(s.Name)})
		alarm(s.Name+"Failed", m, 1, 1, "Pulse "+s.Name+" workflow executions failed")
		failedMetrics = append(failedMetrics, m)
	}

	o.Dashboard = awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String("Pulse"),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Function errors"), Left: &errorMetrics, Width: jsii.Number(12)}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Function duration p99"), Left: &durationMetrics, Width: jsii.Number(12)}),
			},
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Kafka OffsetLag"), Left: &[]awscloudwatch.IMetric{lag}, Width: jsii.Number(8)}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Failed stream batches kept"), Left: &[]awscloudwatch.IMetric{depth}, Width: jsii.Number(8)}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Workflow failures"), Left: &failedMetrics, Width: jsii.Number(8)}),
			},
			{
				awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"), Alarms: alarmsOf(o.Alarms), Width: jsii.Number(24)}),
			},
		},
	})
	return o
}

func alarmsOf(as []awscloudwatch.Alarm) *[]interfacesawscloudwatch.IAlarmRef {
	out := make([]interfacesawscloudwatch.IAlarmRef, len(as))
	for i, a := range as {
		out[i] = a
	}
	return &out
}
