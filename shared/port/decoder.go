package port

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/record"
)

// Decoder turns a message value into a raw record with one Value per
// wanted column, in columns order. A *record.RecordError means the message
// itself is bad: it is quarantined with the error's field and reason and
// the batch goes on. Any other error (a schema registry that cannot be
// reached) fails the batch, which is then retried whole.
// Implementation: shared/adapters/avro (JSON, and Avro in the Confluent
// wire format through a schema registry).
type Decoder interface {
	Decode(ctx context.Context, m *Message, columns []string, dst *record.Raw) error
}
