// Package avro decodes Kafka message values for the stream path: JSON
// objects, and Avro records in the Confluent wire format (magic byte 0, a
// 4-byte big-endian schema id, the Avro binary body) whose writer schema
// comes from a schema registry (franz-go pkg/sr; srfake locally, Confluent
// or Glue-compatible registries on AWS). It implements port.Decoder.
//
// Fields are matched to the dataset's columns by name (exact, then without
// regard to case), so a newer writer schema with added or reordered fields
// decodes without a change; a column the writer does not have is NULL.
// A message that is neither, an unknown schema id, or a body that does not
// match its schema is a *record.RecordError naming the field "value" and
// the reason: the stream path quarantines it and the batch goes on. A
// registry that cannot be reached is an ordinary error: the batch is retried.
package avro

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/twmb/franz-go/pkg/sr"
)

// SchemaSource is the registry call the decoder makes; *sr.Client has it.
type SchemaSource interface {
	SchemaByID(ctx context.Context, id int) (sr.Schema, error)
}

// missingTTL is how long an id the registry said it does not have is
// remembered, so a flood of bad messages does not flood the registry.
const missingTTL = time.Minute

var _ port.Decoder = (*Decoder)(nil)

// Decoder decodes JSON and Confluent-framed Avro values. It is safe for
// concurrent use; compiled schemas are cached by id for the process's life
// (registry ids are immutable).
type Decoder struct {
	src     SchemaSource
	mu      sync.Mutex
	schemas map[int]havro.Schema
	missing map[int]time.Time // id -> when the registry said 404
	plans   map[planKey]*plan
}

type planKey struct {
	id   int
	cols *string // identity of the columns slice (a dataset's Cleaner keeps one)
	n    int
}

// plan maps a writer schema's fields to wanted columns.
type plan struct {
	fields []havro.Schema
	col    []int // per writer field: wanted column index, -1 to skip
}

// NewDecoder returns a decoder resolving schema ids through src (nil:
// JSON only; every Avro message is then rejected).
func NewDecoder(src SchemaSource) *Decoder {
	return &Decoder{src: src, schemas: map[int]havro.Schema{}, missing: map[int]time.Time{}, plans: map[planKey]*plan{}}
}

// NewRegistryDecoder returns a decoder over the schema registry at url.
func NewRegistryDecoder(url string) (*Decoder, error) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return nil, fmt.Errorf("creating schema registry client for %s: %w", url, err)
	}
	return NewDecoder(cl), nil
}

func bad(reason string) error { return &record.RecordError{Field: "value", Reason: reason} }

// Decode implements port.Decoder.
func (d *Decoder) Decode(ctx context.Context, m *port.Message, columns []string, dst *record.Raw) error {
	v := m.Value
	if len(v) == 0 {
		resetValues(dst, len(columns))
		return bad("empty message value (a tombstone?)")
	}
	if v[0] == 0 {
		return d.decodeAvro(ctx, v, columns, dst)
	}
	first := strings.TrimLeft(string(v[:min(len(v), 64)]), " \t\r\n")
	if first == "" || first[0] != '{' {
		resetValues(dst, len(columns))
		return bad(fmt.Sprintf("neither a JSON object nor Confluent Avro (first byte 0x%02x; Avro needs the magic byte 0)", v[0]))
	}
	if err := record.DecodeJSONObject(v, columns, dst); err != nil {
		if re, ok := record.AsRecordError(err); ok && re.Field == "" {
			re.Field = "value"
		}
		return err
	}
	return nil
}

func resetValues(dst *record.Raw, n int) {
	if cap(dst.Values) >= n {
		dst.Values = dst.Values[:n]
	} else {
		dst.Values = make([]record.Value, n)
	}
	for i := range dst.Values {
		dst.Values[i] = record.Value{Null: true}
	}
}

func (d *Decoder) decodeAvro(ctx context.Context, v []byte, columns []string, dst *record.Raw) error {
	resetValues(dst, len(columns))
	if len(v) < 5 {
		return bad(fmt.Sprintf("Confluent Avro header cut short (%d bytes, need 5)", len(v)))
	}
	id := int(binary.BigEndian.Uint32(v[1:5]))
	p, err := d.plan(ctx, id, columns)
	if err != nil {
		return err
	}
	r := reader{b: v[5:]}
	for i, s := range p.fields {
		text, null := textOf(&r, s)
		if r.err != nil {
			break
		}
		if c := p.col[i]; c >= 0 {
			dst.Values[c] = record.Value{Text: text, Null: null}
		}
	}
	if r.err == nil && r.i != len(r.b) {
		r.err = fmt.Errorf("%d bytes left after the record", len(r.b)-r.i)
	}
	if r.err != nil {
		resetValues(dst, len(columns))
		return bad(fmt.Sprintf("Avro body does not match schema id %d: %v", id, r.err))
	}
	return nil
}

// plan returns the compiled mapping of schema id onto columns.
func (d *Decoder) plan(ctx context.Context, id int, columns []string) (*plan, error) {
	key := planKey{id: id, n: len(columns)}
	if len(columns) > 0 {
		key.cols = &columns[0]
	}
	d.mu.Lock()
	p, ok := d.plans[key]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	s, err := d.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	rs, ok := s.(*havro.RecordSchema)
	if !ok {
		return nil, bad(fmt.Sprintf("schema id %d is a %s, not a record", id, s.Type()))
	}
	p = &plan{}
	for _, f := range rs.Fields() {
		p.fields = append(p.fields, f.Type())
		p.col = append(p.col, match(f.Name(), columns))
	}
	d.mu.Lock()
	d.plans[key] = p
	d.mu.Unlock()
	return p, nil
}

func match(name string, columns []string) int {
	for i, c := range columns {
		if c == name {
			return i
		}
	}
	for i, c := range columns {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// schema fetches and parses a writer schema by id.
func (d *Decoder) schema(ctx context.Context, id int) (havro.Schema, error) {
	d.mu.Lock()
	s, ok := d.schemas[id]
	at, missing := d.missing[id]
	d.mu.Unlock()
	if ok {
		return s, nil
	}
	if missing && time.Since(at) < missingTTL {
		return nil, bad(fmt.Sprintf("schema id %d is not in the schema registry", id))
	}
	if d.src == nil {
		return nil, bad(fmt.Sprintf("Avro message (schema id %d) but no schema registry is configured", id))
	}
	got, err := d.src.SchemaByID(ctx, id)
	var re *sr.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == http.StatusNotFound:
		d.mu.Lock()
		d.missing[id] = time.Now()
		d.mu.Unlock()
		return nil, bad(fmt.Sprintf("schema id %d is not in the schema registry", id))
	case err != nil:
		return nil, fmt.Errorf("fetching schema id %d from the registry: %w", id, err)
	}
	if got.Type != sr.TypeAvro {
		return nil, bad(fmt.Sprintf("schema id %d is %s, not Avro", id, got.Type))
	}
	s, err = havro.ParseWithCache(got.Schema, "", &havro.SchemaCache{}) // a fresh cache: versions share names
	if err != nil {
		return nil, bad(fmt.Sprintf("schema id %d does not parse: %v", id, err))
	}
	d.mu.Lock()
	d.schemas[id] = s
	delete(d.missing, id)
	d.mu.Unlock()
	return s, nil
}
