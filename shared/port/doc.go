// Package port holds every interface a Pulse use case (shared/batch,
// shared/stream, shared/gold, shared/catalog, shared/handlers) depends on,
// and the vocabulary they share with the adapters that implement them:
//
//   - ports: ObjectStore (and RangeGetter), Dedupe, Warehouse (and
//     TxExecer), Loader, Appender (Snowpipe Streaming channels),
//     Starter (workflow executions), Decoder (stream messages), Producer
//     (catalog events);
//   - vocabulary: Buckets, FileDrop, Message, Counts, Claim, Outcome,
//     TxnState, Movie, QuarantineRecord (and its PULSE_REJECTS row);
//   - sentinel errors and the one retry predicate, Retryable.
//
// An adapter (shared/adapters/...) imports this package and domain types,
// never a use case. The conformance suites every implementation passes sit
// beside it: port/dedupetest (Dedupe) and port/storetest (ObjectStore).
// Nothing here imports an AWS SDK or Lambda type.
package port
