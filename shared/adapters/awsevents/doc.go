// Package awsevents decodes Lambda trigger payloads in one place: S3 event
// notifications and EventBridge "Object Created" events become
// port.FileDrop values, MSK and self-managed Kafka batches become
// port.Message values. It also builds the same payloads back from
// pipeline values (NewS3Event, NewKafkaEvent) so the local stand-ins hand
// handlers exactly the shapes AWS would.
//
// Types come from github.com/aws/aws-lambda-go/events; nothing here does I/O.
package awsevents
