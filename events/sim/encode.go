package sim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/pulse-analytics/pulse/events"
)

// encoder turns records into message values.
type encoder struct {
	format  string
	schemas map[string]avro.Schema
	fields  map[string][]string // field order per topic, for JSON
	ids     map[string]int
}

func newEncoder(format string, ids map[string]int) (*encoder, error) {
	if format != FormatJSON && format != FormatAvro && format != FormatMixed {
		return nil, fmt.Errorf("unknown format %q (want %q, %q or %q)", format, FormatJSON, FormatAvro, FormatMixed)
	}
	e := &encoder{format: format, schemas: map[string]avro.Schema{}, fields: map[string][]string{}, ids: map[string]int{}}
	for i, topic := range events.Topics() {
		text, err := events.Schema(topic)
		if err != nil {
			return nil, err
		}
		s, err := avro.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("parsing schema of %s: %w", topic, err)
		}
		rs, ok := s.(*avro.RecordSchema)
		if !ok {
			return nil, fmt.Errorf("schema of %s is not a record", topic)
		}
		e.schemas[topic] = s
		for _, f := range rs.Fields() {
			e.fields[topic] = append(e.fields[topic], f.Name())
		}
		e.ids[topic] = i + 1
		if id, ok := ids[topic]; ok {
			e.ids[topic] = id
		}
	}
	return e, nil
}

// AvroTopics are the topics FormatMixed sends as Avro (seed 003).
var AvroTopics = map[string]bool{
	events.TopicConsumerRegistration: true, events.TopicSignIn: true, events.TopicSignOut: true, events.TopicItemView: true,
	events.TopicAddedToCart: true, events.TopicCheckoutToCart: true, events.TopicMoviesCatalog: true,
}

// FormatOf is the encoding a topic gets under format: FormatJSON or FormatAvro.
func FormatOf(format, topic string) string {
	if format == FormatAvro || format == FormatMixed && AvroTopics[topic] {
		return FormatAvro
	}
	return FormatJSON
}

func (e *encoder) encode(topic string, rec map[string]any) ([]byte, error) {
	if FormatOf(e.format, topic) == FormatAvro {
		return e.avro(topic, rec)
	}
	return e.json(topic, rec)
}

// avro frames the Avro binary in the Confluent wire format: magic byte 0,
// the schema id as 4 big-endian bytes, then the body.
func (e *encoder) avro(topic string, rec map[string]any) ([]byte, error) {
	s, ok := e.schemas[topic]
	if !ok {
		return nil, fmt.Errorf("no schema for topic %q", topic)
	}
	body, err := avro.Marshal(s, rec)
	if err != nil {
		return nil, fmt.Errorf("avro-encoding %s: %w", topic, err)
	}
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], uint32(e.ids[topic]))
	return append(out, body...), nil
}

// json writes the record as a JSON object with fields in schema order.
func (e *encoder) json(topic string, rec map[string]any) ([]byte, error) {
	fields, ok := e.fields[topic]
	if !ok {
		return nil, fmt.Errorf("no schema for topic %q", topic)
	}
	b := make([]byte, 0, 64+32*len(fields))
	b = append(b, '{')
	for i, name := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		switch v := rec[name].(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendJSONString(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("json-encoding %s.%s: non-finite number", topic, name)
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		case bool:
			b = strconv.AppendBool(b, v)
		default:
			return nil, fmt.Errorf("json-encoding %s.%s: unsupported type %T", topic, name, v)
		}
	}
	return append(b, '}'), nil
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// corrupt breaks an encoded value so that no decoder accepts it: JSON is
// cut short (a proper prefix of an object is never valid JSON); Avro gets
// a wrong magic byte or a truncated body (every Avro field is needed, so a
// short body cannot decode).
func (e *encoder) corrupt(r *rand.Rand, topic string, v []byte) []byte {
	if FormatOf(e.format, topic) == FormatAvro {
		out := append([]byte(nil), v...)
		if r.IntN(2) == 0 || len(out) <= 6 {
			out[0] = 1 + byte(r.IntN(255))
			return out
		}
		return out[:5+r.IntN(len(out)-5)]
	}
	return append([]byte(nil), v[:1+r.IntN(len(v)-1)]...)
}
