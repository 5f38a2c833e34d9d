// Package stacks holds Pulse's AWS CDK stacks: storage (buckets and keys), state (DynamoDB),
// streaming (MSK event-source mappings to the stream function), the batch workflow (S3 -> trigger ->
// Step Functions Clean -> Model -> Load -> DataTests), the movie-catalog workflow, the daily gold and
// backfill workflow, and observability (alarms and a dashboard).
//
// Each stack has one constructor, NewXStack(scope, id, *XStackProps); NewPulse wires them all from a
// Config, which main (infra/cmd/pulse-cdk) and the tests build the same way.
package stacks
