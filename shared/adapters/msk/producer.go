package msk

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.Producer = (*Producer)(nil)

// Encoder turns a movie into a Kafka record value.
type Encoder interface {
	Encode(m port.Movie) ([]byte, error)
}

// Producer sends catalog events to one topic, keyed by item ID, and waits
// for every acknowledgement (franz-go's idempotent producer, acks=all).
type Producer struct {
	client *kgo.Client
	topic  string
	enc    Encoder
}

// NewProducer produces to topic through client with enc.
func NewProducer(client *kgo.Client, topic string, enc Encoder) *Producer {
	return &Producer{client: client, topic: topic, enc: enc}
}

// Produce implements port.Producer.
func (p *Producer) Produce(ctx context.Context, movies []port.Movie) error {
	recs := make([]*kgo.Record, len(movies))
	for i, m := range movies {
		v, err := p.enc.Encode(m)
		if err != nil {
			return fmt.Errorf("encoding movie %s: %w", m.ItemID, err)
		}
		recs[i] = &kgo.Record{Topic: p.topic, Key: []byte(m.ItemID), Value: v}
	}
	if err := p.client.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", p.topic, err)
	}
	return nil
}

// JSON encodes a movie as a JSON object with the Avro schema's field names.
type JSON struct{}

// Encode implements Encoder.
func (JSON) Encode(m port.Movie) ([]byte, error) { return json.Marshal(m) }

// Avro encodes a movie in the Confluent wire format: magic byte 0, the
// schema ID (4 bytes, big-endian), then the Avro binary body.
type Avro struct {
	schema avro.Schema
	id     int
}

// NewAvro registers the movies_catalog_enriched schema (subject
// "movies_catalog_enriched-value") with the registry and returns an
// encoder using its ID. Registering the same schema again returns the
// same ID.
func NewAvro(ctx context.Context, registry *sr.Client) (*Avro, error) {
	text, err := events.Schema(port.CatalogTopic)
	if err != nil {
		return nil, err
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing the %s schema: %w", port.CatalogTopic, err)
	}
	ss, err := registry.CreateSchema(ctx, events.Subject(port.CatalogTopic), sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		return nil, fmt.Errorf("registering the %s schema: %w", port.CatalogTopic, err)
	}
	return &Avro{schema: s, id: ss.ID}, nil
}

// ID is the registered schema ID.
func (a *Avro) ID() int { return a.id }

// Encode implements Encoder.
func (a *Avro) Encode(m port.Movie) ([]byte, error) {
	body, err := avro.Marshal(a.schema, map[string]any{
		"item_id": m.ItemID, "title": m.Title, "genre": m.Genre,
		"list_price_raw": m.ListPriceRaw, "price": m.Price, "currency": m.Currency,
	})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], uint32(a.id))
	return append(out, body...), nil
}
