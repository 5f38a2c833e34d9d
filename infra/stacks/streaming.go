package stacks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsmsk"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

// IdleTickSource is the eventSource of the scheduled empty batch that closes idle windows.
const IdleTickSource = "pulse:idle-tick" // handlers.IdleTickSource (capacity_test.go checks)

// TopicGroup is a set of Kafka topics consumed with the same event-source mapping settings. Each
// topic gets its own mapping (Lambda allows one topic per Kafka mapping) and consumer group
// "pulse-stream-<topic>".
type TopicGroup struct {
	Name                     string
	Topics                   []string
	BatchSize                int
	MaxBatchingWindowSeconds int
	// StartingPosition is TRIM_HORIZON or LATEST.
	StartingPosition string
}

func (g TopicGroup) validate() error {
	if len(g.Topics) == 0 {
		return fmt.Errorf("checking topic group %q: %w", g.Name, errNoTopics)
	}
	if g.BatchSize < 1 || g.BatchSize > 10000 {
		return fmt.Errorf("checking topic group %q: batch size %d outside 1..10000", g.Name, g.BatchSize)
	}
	if g.MaxBatchingWindowSeconds < 0 || g.MaxBatchingWindowSeconds > 300 {
		return fmt.Errorf("checking topic group %q: batching window %ds outside 0..300", g.Name, g.MaxBatchingWindowSeconds)
	}
	if g.StartingPosition != "TRIM_HORIZON" && g.StartingPosition != "LATEST" {
		return fmt.Errorf("checking topic group %q: starting position %q is not TRIM_HORIZON or LATEST", g.Name, g.StartingPosition)
	}
	return nil
}

// DefaultTopicGroups are the topics of DESIGN.md §1, read from the registered dataset specs
// (shared/dataset) at synth time: the JSON event streams (and the catalog events the catalog
// workflow produces), and the Avro consumer events.
func DefaultTopicGroups() []TopicGroup {
	return []TopicGroup{
		{Name: "json", Topics: dataset.Topics(false), BatchSize: 500, MaxBatchingWindowSeconds: 5, StartingPosition: "TRIM_HORIZON"},
		{Name: "avro", Topics: dataset.Topics(true), BatchSize: 1000, MaxBatchingWindowSeconds: 10, StartingPosition: "TRIM_HORIZON"},
	}
}

// FailedBatchPrefix is where Lambda's S3 on-failure destination writes a batch the mapping gave up
// on, whole (the invocation payload with its records) beside why: aws/lambda/<mapping UUID>/
// <partition>/<date>/... in the raw bucket, the one bucket that may hold personal data. An SQS DLQ
// would keep only the offsets, and the records would be lost once the topic's retention passed.
// Replaying one is invoking the stream function with its payload (infra/README.md); the stream's
// offset ledger and dedupe claims make a replay of work already done load nothing twice.
const FailedBatchPrefix = "aws/lambda/"

// CatalogTopic is the topic the catalog function produces to.
const CatalogTopic = "movies_catalog_enriched"

// StreamingStackProps configures the streaming stack.
type StreamingStackProps struct {
	awscdk.StackProps
	Config  Config
	Storage *StorageStack
	State   *StateStack
}

// StreamingStack holds the stream function, its Kafka event-source mappings (their failed batches
// kept whole in the raw bucket under FailedBatchPrefix), and the MSK Serverless cluster when none
// was given.
type StreamingStack struct {
	awscdk.Stack
	Function awslambda.Function
	// ClusterARN is the given cluster's ARN or the new cluster's (a token).
	ClusterARN *string
	// Cluster and VPC are nil when Config.MSKClusterARN was given.
	Cluster awsmsk.CfnServerlessCluster
	VPC     awsec2.IVpc
	// ClientSecurityGroup admits Kafka clients (port 9098) to the new cluster.
	ClientSecurityGroup awsec2.ISecurityGroup
	// Mappings lists the event-source mappings, one per topic.
	Mappings []awslambdaeventsources.ManagedKafkaEventSource
	// TopicNames lists every consumed topic, in mapping order.
	TopicNames []string
	// Topics creates the topics through TopicsResource (topics.go).
	Topics         awslambda.Function
	TopicsResource awscdk.CustomResource
}

// NewStreamingStack makes the stream function with one MSK event-source mapping per topic (IAM
// auth, batch size/window/starting position from its TopicGroup, failed batches to the raw bucket).
func NewStreamingStack(scope constructs.Construct, id string, props *StreamingStackProps) *StreamingStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &StreamingStack{Stack: stack}
	cfg := props.Config

	if cfg.MSKClusterARN != "" {
		s.ClusterARN = jsii.String(cfg.MSKClusterARN)
	} else {
		s.newServerlessCluster(stack, cfg)
	}

	st := props.Storage
	s.Function = newGoFunction(stack, "Stream", cfg, functionSpec{
		name: "stream", memory: 1024, timeout: awscdk.Duration_Minutes(jsii.Number(5)),
		env: merge(map[string]*string{
			"PULSE_RAW_BUCKET":        st.Raw.BucketName(),
			"PULSE_STAGING_BUCKET":    st.Staging.BucketName(),
			"PULSE_CURATED_BUCKET":    st.Curated.BucketName(),
			"PULSE_QUARANTINE_BUCKET": st.Quarantine.BucketName(),
			"PULSE_DEDUPE_TABLE":      props.State.Dedupe.TableName(),
			"PULSE_STATE_TABLE":       props.State.State.TableName(),
			"PULSE_DEDUPE_TTL":        jsii.String(cfg.streamDedupeTTL().String()),
			// The partitions the deployment creates per topic (topics.go): the
			// stream's windows wait for every one of them (stream.Config.Partitions).
			"PULSE_TOPIC_PARTITIONS": jsii.String(strconv.Itoa(cfg.topicPartitions())),
		}, cfg.snowflakeEnv()),
	})
	if cfg.SchemaRegistryURL != "" {
		// The Avro topics are decoded through it (Confluent wire format).
		s.Function.AddEnvironment(jsii.String("PULSE_SCHEMA_REGISTRY_URL"), jsii.String(cfg.SchemaRegistryURL), nil)
	}
	fn := s.Function
	// The stream archive lives under stream/ (not raw/), so it never fires the batch workflow.
	grantObjectsWrite(fn, st.Raw, st.Key, "stream/")
	grantObjectsWrite(fn, st.Staging, st.Key, "stream/")
	grantObjectsWrite(fn, st.Quarantine, st.Key, "stream/")
	// The on-failure destination writes as the function's role: put under the prefix, list the
	// bucket (as Lambda requires of an S3 destination), nothing else.
	grantObjectsWrite(fn, st.Raw, st.Key, FailedBatchPrefix)
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: fn, Actions: jsii.Strings("s3:ListBucket"), ResourceArns: jsii.Strings(*st.Raw.BucketArn()),
	})
	grantObjectRead(fn, st.Curated, st.Key, platformRegistryKey)
	grantItems(fn, props.State.Dedupe, dedupeActions...)
	// Window state (shared/adapters/dynamo.WindowStore): GetItem and BatchGetItem read a window's head
	// and chunks; a save is a conditional PutItem, or one TransactWriteItems whose items IAM
	// evaluates as PutItem and, for the chunks of the replaced version, DeleteItem (a state that
	// shrinks from chunks to fewer chunks).
	grantItems(fn, props.State.State, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
	grantSecretValue(fn, snowflakeSecret(stack, cfg.SnowflakeSecretARN))

	var topicARNs, groupARNs []*string
	for _, g := range cfg.topicGroups() {
		for _, topic := range g.Topics {
			group := "pulse-stream-" + topic
			src := awslambdaeventsources.NewManagedKafkaEventSource(&awslambdaeventsources.ManagedKafkaEventSourceProps{
				ClusterArn:        s.ClusterARN,
				Topic:             jsii.String(topic),
				ConsumerGroupId:   jsii.String(group),
				BatchSize:         jsii.Number(float64(g.BatchSize)),
				MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(float64(g.MaxBatchingWindowSeconds))),
				StartingPosition:  awslambda.StartingPosition(g.StartingPosition),
			})
			fn.AddEventSource(src)
			keepFailedBatches(fn, st.Raw)
			s.Mappings = append(s.Mappings, src)
			s.TopicNames = append(s.TopicNames, topic)
			topicARNs = append(topicARNs, kafkaResourceARN(stack, s.ClusterARN, "topic", topic))
			groupARNs = append(groupARNs, kafkaResourceARN(stack, s.ClusterARN, "group", group))
		}
	}
	// Windows close when the watermark passes them, and the watermark moves with events; a topic
	// that falls silent still needs its windows closed (DESIGN.md 4.3). Once a minute the function
	// is invoked with an empty batch: the idle tick (shared/handlers.Stream).
	idle := awsevents.NewRule(stack, jsii.String("IdleTick"), &awsevents.RuleProps{
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Description: jsii.String("Pulse: close idle event-time windows (an empty batch to the stream function)"),
	})
	idle.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		Event: awsevents.RuleTargetInput_FromObject(map[string]any{"eventSource": IdleTickSource, "records": map[string]any{}}),
	}))
	// SASL/IAM: the mapping authenticates as the function's role.
	grantKafka(fn, []*string{s.ClusterARN}, "kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration")
	grantKafka(fn, topicARNs, "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData")
	grantKafka(fn, groupARNs, "kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup")
	s.addTopics(stack, cfg, append(append([]string(nil), s.TopicNames...), CatalogTopic))
	return s
}

// newServerlessCluster makes an MSK Serverless cluster with IAM auth in the given or a new VPC.
func (s *StreamingStack) newServerlessCluster(stack awscdk.Stack, cfg Config) {
	if cfg.VPCID != "" {
		s.VPC = awsec2.Vpc_FromLookup(stack, jsii.String("Vpc"), &awsec2.VpcLookupOptions{VpcId: jsii.String(cfg.VPCID)})
	} else {
		flowLogs := awslogs.NewLogGroup(stack, jsii.String("VpcFlowLogs"), &awslogs.LogGroupProps{
			Retention:     LogRetention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
			MaxAzs:      jsii.Number(2),
			NatGateways: jsii.Number(1),
			FlowLogs: &map[string]*awsec2.FlowLogOptions{
				"All": {TrafficType: awsec2.FlowLogTrafficType_ALL, Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil)},
			},
		})
		// The mappings write failed batches to S3 (the on-failure destination) from inside the VPC:
		// a gateway endpoint, free, takes them there without the NAT gateway.
		vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_S3()})
		s.VPC = vpc
	}
	sg := awsec2.NewSecurityGroup(stack, jsii.String("KafkaClients"), &awsec2.SecurityGroupProps{
		Vpc:         s.VPC,
		Description: jsii.String("MSK Serverless brokers and their clients: the Lambda event-source mapping and the catalog function (IAM auth on 9098)"),
	})
	sg.AddIngressRule(sg, awsec2.Port_Tcp(jsii.Number(9098)), jsii.String("Kafka IAM from members of this group"), nil)
	subnets := s.VPC.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS})
	s.ClientSecurityGroup = sg
	s.Cluster = awsmsk.NewCfnServerlessCluster(stack, jsii.String("Kafka"), &awsmsk.CfnServerlessClusterProps{
		ClusterName: jsii.String("pulse"),
		ClientAuthentication: &awsmsk.CfnServerlessCluster_ClientAuthenticationProperty{
			Sasl: &awsmsk.CfnServerlessCluster_SaslProperty{
				Iam: &awsmsk.CfnServerlessCluster_IamProperty{Enabled: jsii.Bool(true)},
			},
		},
		VpcConfigs: []interface{}{&awsmsk.CfnServerlessCluster_VpcConfigProperty{
			SubnetIds:      subnets.SubnetIds,
			SecurityGroups: jsii.Strings(*sg.SecurityGroupId()),
		}},
	})
	s.ClusterARN = s.Cluster.AttrArn()
}

// kafkaResourceARN turns a cluster ARN (arn:...:cluster/<name>/<uuid>) into the ARN of a topic or
// consumer group of that cluster (arn:...:<kind>/<name>/<uuid>/<resource>).
func kafkaResourceARN(stack awscdk.Stack, clusterARN *string, kind, resource string) *string {
	if !*awscdk.Token_IsUnresolved(clusterARN) {
		return jsii.String(strings.Replace(*clusterARN, ":cluster/", ":"+kind+"/", 1) + "/" + resource)
	}
	parts := awscdk.Fn_Split(jsii.String("/"), clusterARN, jsii.Number(3))
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), stack.Partition(), jsii.String(":kafka:"), stack.Region(), jsii.String(":"), stack.Account(),
		jsii.String(":" + kind + "/"), awscdk.Fn_Select(jsii.Number(1), parts), jsii.String("/"),
		awscdk.Fn_Select(jsii.Number(2), parts), jsii.String("/" + resource),
	})
}

func grantKafka(grantee awsiam.IGrantable, arns []*string, actions ...string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &arns,
	})
}

// merge returns the union of maps (later ones win).
func merge(ms ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// keepFailedBatches makes the raw bucket the on-failure destination of the mapping fn.AddEventSource
// just made. CDK's S3OnFailureDestination would grant the role read, write and delete on the whole
// bucket; the stream role gets only what the destination needs (NewStreamingStack), so the
// destination is set on the mapping's CloudFormation resource.
func keepFailedBatches(fn awslambda.Function, raw awss3.IBucket) {
	children := *fn.Node().Children()
	esm := children[len(children)-1].Node().DefaultChild().(awscdk.CfnResource)
	esm.AddPropertyOverride(jsii.String("DestinationConfig.OnFailure.Destination"), raw.BucketArn())
}
