package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// CatalogPrefix is where Movies.txt files land in the raw bucket; CatalogRejectsPrefix is where
// the catalog function keeps rejected lines in the quarantine bucket.
const (
	CatalogPrefix        = "raw/movies_catalog/"
	CatalogRejectsPrefix = "movies_catalog/"
)

// CatalogStackProps configures the movie-catalog workflow stack.
type CatalogStackProps struct {
	awscdk.StackProps
	Config    Config
	Storage   *StorageStack
	Streaming *StreamingStack
	// Schedule is when the catalog is re-read; nil means daily at 01:00 UTC.
	Schedule awsevents.Schedule
}

// CatalogStack holds the catalog function, its state machine and the two rules that start it.
type CatalogStack struct {
	awscdk.Stack
	Function      awslambda.Function
	StateMachine  sfn.StateMachine
	ScheduleRule  awsevents.Rule
	ObjectRule    awsevents.Rule
	DefaultObject string
}

// NewCatalogStack makes the movie-catalog workflow: an EventBridge schedule and an EventBridge rule on
// "Object Created" for raw/movies_catalog/*Movies.txt (the batch stack turns on EventBridge delivery
// for the raw bucket) both start a state machine with {"bucket","key"}, whose one task runs the
// catalog function (parse Movies.txt, produce movies_catalog_enriched events to MSK).
func NewCatalogStack(scope constructs.Construct, id string, props *CatalogStackProps) *CatalogStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	c := &CatalogStack{Stack: stack, DefaultObject: CatalogPrefix + "Movies.txt"}
	cfg, st, str := props.Config, props.Storage, props.Streaming

	spec := functionSpec{name: "catalog", memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(10)),
		env: map[string]*string{
			"PULSE_RAW_BUCKET":        st.Raw.BucketName(),
			"PULSE_QUARANTINE_BUCKET": st.Quarantine.BucketName(),
			"PULSE_MSK_CLUSTER_ARN":   str.ClusterARN,
			"PULSE_CATALOG_TOPIC":     jsii.String(CatalogTopic),
		}}
	if cfg.SchemaRegistryURL != "" {
		spec.env["PULSE_SCHEMA_REGISTRY_URL"] = jsii.String(cfg.SchemaRegistryURL)
	}
	if str.VPC != nil {
		// A new MSK Serverless cluster is private: the producer runs in its VPC.
		c.Function = newVPCFunction(stack, "Catalog", cfg, spec, str.VPC, str.ClientSecurityGroup)
	} else {
		c.Function = newGoFunction(stack, "Catalog", cfg, spec)
	}
	grantObjectsRead(c.Function, st.Raw, st.Key, CatalogPrefix)
	// Rejected lines are kept, with their reasons, under movies_catalog/ in the quarantine bucket.
	grantObjectsWrite(c.Function, st.Quarantine, st.Key, CatalogRejectsPrefix)
	// The producer is idempotent (franz-go's default): InitProducerId needs WriteDataIdempotently on the cluster.
	grantKafka(c.Function, []*string{str.ClusterARN}, "kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently", "kafka:GetBootstrapBrokers")
	grantKafka(c.Function, []*string{kafkaResourceARN(stack, str.ClusterARN, "topic", CatalogTopic)},
		"kafka-cluster:DescribeTopic", "kafka-cluster:WriteData")

	task := invoke(constructs.NewConstruct(stack, jsii.String("States")), "Catalog", c.Function, map[string]interface{}{"bucket.$": "$.bucket", "key.$": "$.key"}, "")
	c.StateMachine = newStateMachine(stack, "CatalogWorkflow", task, awscdk.Duration_Hours(jsii.Number(1)))

	schedule := props.Schedule
	if schedule == nil {
		schedule = awsevents.Schedule_Cron(&awsevents.CronOptions{Minute: jsii.String("0"), Hour: jsii.String("1")})
	}
	c.ScheduleRule = awsevents.NewRule(stack, jsii.String("CatalogSchedule"), &awsevents.RuleProps{
		Schedule: schedule,
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSfnStateMachine(c.StateMachine, &awseventstargets.SfnStateMachineProps{
			Input: awsevents.RuleTargetInput_FromObject(map[string]interface{}{"bucket": st.Raw.BucketName(), "key": c.DefaultObject}),
		})},
	})
	c.ObjectRule = awsevents.NewRule(stack, jsii.String("CatalogObjectCreated"), &awsevents.RuleProps{
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]interface{}{
				"bucket": map[string]interface{}{"name": []interface{}{st.Raw.BucketName()}},
				"object": map[string]interface{}{"key": []interface{}{map[string]interface{}{"wildcard": CatalogPrefix + "*Movies.txt"}}},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSfnStateMachine(c.StateMachine, &awseventstargets.SfnStateMachineProps{
			Input: awsevents.RuleTargetInput_FromObject(map[string]interface{}{
				"bucket": awsevents.EventField_FromPath(jsii.String("$.detail.bucket.name")),
				"key":    awsevents.EventField_FromPath(jsii.String("$.detail.object.key")),
			}),
		})},
	})
	output(stack, "CatalogStateMachineArn", c.StateMachine.StateMachineArn())
	return c
}

// newVPCFunction is newGoFunction placed in the VPC's private subnets with the given security group.
func newVPCFunction(scope constructs.Construct, id string, cfg Config, spec functionSpec, vpc awsec2.IVpc, sg awsec2.ISecurityGroup) awslambda.Function {
	return newGoFunctionWith(scope, id, cfg, spec, func(p *awslambda.FunctionProps) {
		p.Vpc = vpc
		p.VpcSubnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
		p.SecurityGroups = &[]awsec2.ISecurityGroup{sg}
	})
}
