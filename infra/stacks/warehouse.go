package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/pulse-analytics/pulse/shared/migration"
)

// SchemaResourceType is the custom resource that applies the warehouse DDL.
const SchemaResourceType = "Custom::PulseWarehouseSchema"

// newWarehouseSchema adds the schema function (functions/schema) and the custom resource that
// invokes it on every deploy whose DDL changed (its Digest property is shared/migration.Digest):
// the tables, gold tables, views and marts exist in Snowflake before any load or dashboard reads
// them. It reads the warehouse secret and nothing else.
func newWarehouseSchema(stack constructs.Construct, cfg Config, secret awssecretsmanager.ISecret) awslambda.Function {
	fn := newGoFunction(stack, "Schema", cfg, functionSpec{name: "schema", memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(10)),
		env: cfg.snowflakeEnv()})
	grantSecretValue(fn, secret)
	awscdk.NewCustomResource(stack, jsii.String("WarehouseSchema"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String(SchemaResourceType),
		Properties:   &map[string]any{"Digest": migration.Digest()},
	})
	return fn
}
