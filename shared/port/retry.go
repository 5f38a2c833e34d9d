package port

import (
	"errors"
)

// ErrPermanent marks a failure that retrying cannot fix: the input itself
// is at fault, or the work was given up. Wrap it (or one of the sentinels
// Retryable lists) to keep a failure from being retried.
var ErrPermanent = errors.New("permanent failure")

// Retryable is the one predicate that decides whether failed work is tried
// again, for every part Pulse talks to (S3, DynamoDB, Kafka, the
// warehouse) and every workflow: a failure is transient, and retried,
// unless it wraps a sentinel that says the input or the work is at fault:
//
//   - ErrNotADataset: the file cannot be read as its dataset (unknown
//     dataset or format, corrupt or truncated content, a header without the
//     dataset's columns); the same bytes fail the same way every time;
//   - ErrDataTests: the loaded rows failed a data test;
//   - ErrTxnAborted: the work's dedupe claims were released (the file was
//     quarantined, or taken over after its deadline): it must start again
//     from Clean, which a retry of the failed step does not do;
//   - ErrPermanent: anything else a caller knows to be deterministic.
//
// Everything else is retried: network and service errors (the AWS SDK has
// already retried throttling), warehouse transaction conflicts, a lease or
// a dedupe key held by work still in flight (ErrClaimHeld), an object read
// cut short by the network. A retried failure that persists ends where the
// retries end: the workflow's Catch (the file is quarantined, its claims
// released) or the event-source mapping's on-failure destination.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	for _, permanent := range []error{ErrPermanent, ErrNotADataset, ErrDataTests, ErrTxnAborted} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true
}

// ErrNotADataset marks a file that is not under raw/<known dataset>/ or has
// an unknown format; the workflow quarantines such files whole.
var ErrNotADataset = errors.New("not a dataset file")

// ErrDataTests marks a file whose loaded rows failed a data test.
var ErrDataTests = errors.New("data tests failed")

// sentinel is an error value that names an outcome and wraps a broader one.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) Unwrap() error { return s.parent }

// ErrUnreadable marks a file whose bytes do not read as its format: a
// damaged or truncated gzip stream, a corrupt Parquet file, a CSV header
// that does not parse (record.ErrCorrupt underneath). It wraps
// ErrNotADataset: the same bytes fail the same way every time, so the
// workflow quarantines the file whole and does not retry. A failed read
// of the object store is never ErrUnreadable: it comes out as the store
// returned it, to be retried.
var ErrUnreadable error = &sentinel{"unreadable file", ErrNotADataset}

// ErrWrongDataset marks a file whose header (CSV header, Parquet schema)
// has none of its dataset's critical columns: a file dropped under the
// wrong dataset. It wraps ErrNotADataset (permanent, quarantined whole).
var ErrWrongDataset error = &sentinel{"not a file of its dataset", ErrNotADataset}
