package stacks

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// LogRetention is the retention of every function's and state machine's log group.
const LogRetention = awslogs.RetentionDays_ONE_MONTH

// functionSpec describes one Go Lambda function.
type functionSpec struct {
	name    string // folder under LambdaDir
	memory  float64
	timeout awscdk.Duration
	env     map[string]*string
}

// newGoFunction makes a provided.al2023 function (arm64 unless cfg says x86_64) from
// <cfg.LambdaDir>/<name>/bootstrap with its own log group (LogRetention). It returns the function;
// the caller adds grants.
func newGoFunction(scope constructs.Construct, id string, cfg Config, spec functionSpec) awslambda.Function {
	return newGoFunctionWith(scope, id, cfg, spec, nil)
}

// newGoFunctionWith is newGoFunction with a last change to the props (VPC placement).
func newGoFunctionWith(scope constructs.Construct, id string, cfg Config, spec functionSpec, edit func(*awslambda.FunctionProps)) awslambda.Function {
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// An own role with write access to the function's log group only, instead of the managed
	// AWSLambdaBasicExecutionRole (logs:* on every log group).
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Pulse " + spec.name + " function"),
	})
	logs.GrantWrite(role)
	env := map[string]*string{"PULSE_FUNCTION": jsii.String(spec.name)}
	for k, v := range spec.env {
		env[k] = v
	}
	arch := awslambda.Architecture_ARM_64()
	if cfg.LambdaArchitecture == "x86_64" {
		arch = awslambda.Architecture_X86_64()
	}
	props := &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  arch,
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.LambdaDir, spec.name)), nil),
		MemorySize:    jsii.Number(spec.memory),
		Timeout:       spec.timeout,
		Environment:   &env,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Role:          role,
		Description:   jsii.String("Pulse " + spec.name),
	}
	if edit != nil {
		edit(props)
	}
	return awslambda.NewFunction(scope, jsii.String(id), props)
}

// snowflakeSecret imports the warehouse secret by its complete ARN, so grants name exactly that secret.
func snowflakeSecret(scope constructs.Construct, arn string) awssecretsmanager.ISecret {
	return awssecretsmanager.Secret_FromSecretCompleteArn(scope, jsii.String("SnowflakeSecret"), jsii.String(arn))
}

// grantSecretValue lets grantee read the secret's value: secretsmanager:GetSecretValue on exactly
// that ARN. Not ISecret.GrantRead, which adds DescribeSecret, a call no function makes (the local
// cloud's IAM check). A secret encrypted with a customer-managed key also needs kms:Decrypt on it,
// granted in the key's policy by whoever made the secret (docs/howto-real-account.md).
func grantSecretValue(grantee awsiam.IGrantable, secret awssecretsmanager.ISecret) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("secretsmanager:GetSecretValue"),
		ResourceArns: jsii.Strings(*secret.SecretArn()),
	})
}

// platformRegistryKey is the platform registry in the curated bucket
// (shared/pipeline.PlatformsKey): the clean, datatests and stream functions
// read it, so that platforms added after the build are accepted by the
// cleaning and by the DIM_PLATFORM data test.
const platformRegistryKey = "reference/platforms.json"

// grantObjectsRead lets grantee list the bucket and get the objects under prefix ("" for all),
// with exact actions (no s3:Get* wildcards) and kms:Decrypt on the bucket key. Not
// s3:GetObjectVersion: no function reads an object by version (the local cloud's IAM check).
// s3:ListBucket is for the error path: without it a missing object answers 403, not 404.
func grantObjectsRead(grantee awsiam.IGrantable, bucket awss3.IBucket, key awskms.IKey, prefix string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:GetObject"),
		ResourceArns: jsii.Strings(*bucket.ArnForObjects(jsii.String(prefix + "*"))),
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:ListBucket"),
		ResourceArns: jsii.Strings(*bucket.BucketArn()),
	})
	key.Grant(grantee, jsii.String("kms:Decrypt"))
}

// grantObjectRead lets grantee get exactly one object (no wildcard) and list the bucket, so that a
// missing object reads as 404 rather than 403, with kms:Decrypt on the bucket key.
func grantObjectRead(grantee awsiam.IGrantable, bucket awss3.IBucket, key awskms.IKey, objectKey string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:GetObject"),
		ResourceArns: jsii.Strings(*bucket.ArnForObjects(jsii.String(objectKey))),
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:ListBucket"),
		ResourceArns: jsii.Strings(*bucket.BucketArn()),
	})
	key.Grant(grantee, jsii.String("kms:Decrypt"))
}

// grantObjectsWrite lets grantee put (and abort multipart uploads of) objects under prefix, with
// kms:GenerateDataKey and kms:Decrypt (multipart) on the bucket key.
func grantObjectsWrite(grantee awsiam.IGrantable, bucket awss3.IBucket, key awskms.IKey, prefix string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
		ResourceArns: jsii.Strings(*bucket.ArnForObjects(jsii.String(prefix + "*"))),
	})
	key.Grant(grantee, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
}

// dedupeActions are the item actions of the dedupe store (shared/adapters/dynamo.Dedupe): claims
// are conditional PutItems read back with GetItem, transactions conditional UpdateItems.
var dedupeActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}

// grantItems lets grantee make exactly these DynamoDB actions on table's items (no Scan,
// DeleteItem or BatchWriteItem unless named). The tables use the AWS-managed key (aws/dynamodb),
// so no KMS grant is needed (infra/README.md says why not a customer-managed key).
func grantItems(grantee awsiam.IGrantable, table awsdynamodb.ITable, actions ...string) {
	table.Grant(grantee, *jsii.Strings(actions...)...)
}

// output adds a stack output (cdk deploy --outputs-file writes them; the LocalStack integration
// tests and operators read resource names from there).
func output(stack awscdk.Stack, id string, value *string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value})
}
