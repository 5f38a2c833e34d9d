// Package dynamo holds Pulse's DynamoDB adapters, on aws-sdk-go-v2: the
// dedupe store (port.Dedupe) and the helpers to build a client and,
// for local runs and tests, the tables (in AWS the CDK stack creates them).
// Tests run against DynamoDB Local (localstack/ddblocal).
package dynamo
