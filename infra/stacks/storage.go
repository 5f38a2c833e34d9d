package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StorageStackProps configures the storage stack.
type StorageStackProps struct {
	awscdk.StackProps
}

// StorageStack holds the data buckets (raw, staging, curated, quarantine), their KMS key and the
// server access logs bucket.
type StorageStack struct {
	awscdk.Stack
	Key        awskms.Key
	Raw        awss3.Bucket
	Staging    awss3.Bucket
	Curated    awss3.Bucket
	Quarantine awss3.Bucket
	AccessLogs awss3.Bucket
}

// NewStorageStack makes the buckets. Every data bucket is KMS-encrypted with one rotated key, blocks
// public access, enforces TLS, logs access to the AccessLogs bucket and has lifecycle rules.
func NewStorageStack(scope constructs.Construct, id string, props *StorageStackProps) *StorageStack {
	var sp awscdk.StackProps
	if props != nil {
		sp = props.StackProps
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	s := &StorageStack{Stack: stack}
	// Deliver access logs through a bucket policy (not ACLs), whatever the app's feature flags say.
	stack.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)

	s.Key = awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
		Description:       jsii.String("Pulse data buckets"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// Server access logs cannot be delivered to a KMS-encrypted bucket: S3-managed keys here.
	s.AccessLogs = awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})

	data := func(name string, versioned bool, rules ...*awss3.LifecycleRule) awss3.Bucket {
		rules = append(rules, &awss3.LifecycleRule{
			Id:                                  jsii.String("abort-incomplete-uploads"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		})
		return awss3.NewBucket(stack, jsii.String(name), &awss3.BucketProps{
			Encryption:             awss3.BucketEncryption_KMS,
			EncryptionKey:          s.Key,
			BucketKeyEnabled:       jsii.Bool(true),
			BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
			EnforceSSL:             jsii.Bool(true),
			Versioned:              jsii.Bool(versioned),
			ServerAccessLogsBucket: s.AccessLogs,
			ServerAccessLogsPrefix: jsii.String(name + "/"),
			LifecycleRules:         &rules,
			RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		})
	}
	// Raw is versioned: the trigger derives execution names from the version ID, and a replay reads
	// the exact version that was processed.
	s.Raw = data("Raw", true,
		&awss3.LifecycleRule{
			Id: jsii.String("tier-raw"),
			Transitions: &[]*awss3.Transition{
				{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: awscdk.Duration_Days(jsii.Number(30))},
				{StorageClass: awss3.StorageClass_GLACIER(), TransitionAfter: awscdk.Duration_Days(jsii.Number(90))},
			},
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		})
	s.Staging = data("Staging", false, &awss3.LifecycleRule{
		Id:         jsii.String("expire-staging"),
		Expiration: awscdk.Duration_Days(jsii.Number(30)),
	})
	s.Curated = data("Curated", false, &awss3.LifecycleRule{
		Id: jsii.String("tier-curated"),
		Transitions: &[]*awss3.Transition{
			{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: awscdk.Duration_Days(jsii.Number(90))},
		},
	})
	s.Quarantine = data("Quarantine", false, &awss3.LifecycleRule{
		Id:         jsii.String("expire-quarantine"),
		Expiration: awscdk.Duration_Days(jsii.Number(180)),
	})
	output(stack, "RawBucketName", s.Raw.BucketName())
	output(stack, "StagingBucketName", s.Staging.BucketName())
	output(stack, "CuratedBucketName", s.Curated.BucketName())
	output(stack, "QuarantineBucketName", s.Quarantine.BucketName())
	return s
}
