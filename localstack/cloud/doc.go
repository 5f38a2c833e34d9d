// Package cloud brings a synthesized cloud assembly (cdk.out) up on the
// local stand-ins, so that what `cdk deploy` ships is what runs: each
// Lambda function is its bootstrap from the assembly's assets, run under
// AWS's Lambda Runtime Interface Emulator with exactly the Environment its
// template gives it plus endpoint variables and credentials; buckets and
// DynamoDB tables are created from the templates; S3 notifications, Kafka
// event-source mappings, EventBridge rules and the state machines are wired
// as the templates declare them; every AWS API call a function makes is
// recorded at the stand-ins' endpoint, with the caller's role, for the IAM
// check.
package cloud
