package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
)

// ErrIncompatibleSchema is returned by RegisterSchemas when a schema would
// replace a registered version that it cannot read (BACKWARD compatibility).
var ErrIncompatibleSchema = errors.New("schema is not backward compatible")

// RegisterSchemas registers the schema of every topic under the subject
// "<topic>-value" and returns each topic's schema id. Registering an
// identical schema again returns the existing id. A schema that differs from
// the latest registered version is checked for BACKWARD compatibility here
// (srfake reports everything compatible), with a fresh checker per check.
func RegisterSchemas(ctx context.Context, reg *sr.Client, topics []string) (map[string]int, error) {
	ids := make(map[string]int, len(topics))
	for _, topic := range topics {
		text, err := events.Schema(topic)
		if err != nil {
			return nil, err
		}
		id, err := RegisterSchema(ctx, reg, events.Subject(topic), text)
		if err != nil {
			return nil, err
		}
		ids[topic] = id
	}
	return ids, nil
}

// RegisterSchema registers one Avro schema under subject after checking it
// can read data written with the latest registered version.
func RegisterSchema(ctx context.Context, reg *sr.Client, subject, schema string) (int, error) {
	next, err := avro.Parse(schema)
	if err != nil {
		return 0, fmt.Errorf("parsing schema for %s: %w", subject, err)
	}
	latest, err := reg.SchemaByVersion(ctx, subject, -1)
	var re *sr.ResponseError
	switch {
	case err == nil:
		prev, perr := avro.Parse(latest.Schema.Schema)
		if perr != nil {
			return 0, fmt.Errorf("parsing registered schema %s v%d: %w", subject, latest.Version, perr)
		}
		if prev.Fingerprint() != next.Fingerprint() || latest.Schema.Schema != schema {
			if cerr := avro.NewSchemaCompatibility().Compatible(next, prev); cerr != nil {
				return 0, fmt.Errorf("registering %s over v%d: %w: %v", subject, latest.Version, ErrIncompatibleSchema, cerr) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
			}
		}
	case errors.As(err, &re) && re.StatusCode == http.StatusNotFound:
		// first version
	default:
		return 0, fmt.Errorf("looking up latest schema of %s: %w", subject, err)
	}
	ss, err := reg.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	if err != nil {
		return 0, fmt.Errorf("registering schema %s: %w", subject, err)
	}
	return ss.ID, nil
}

// Run generates events for cfg and produces them to Kafka at cfg.Rate
// events per second (paced on the wall clock), until the generator stops
// (MaxEvents, Duration) or ctx is done (a normal stop, not an error). With Format "avro" the schemas are
// first registered through reg (also with "mixed"). progress, if not nil, is called about once a
// second and once at the end with the counts of acknowledged events. The
// Kafka record timestamp is the produce time; the event time is in the value.
func Run(ctx context.Context, cfg Config, client *kgo.Client, reg *sr.Client, progress func(Stats)) (Stats, error) {
	if cfg.Format == FormatAvro || cfg.Format == FormatMixed {
		if reg == nil {
			return Stats{}, errors.New("running the simulator with avro: no schema registry client")
		}
		ids, err := RegisterSchemas(ctx, reg, events.Topics())
		if err != nil {
			return Stats{}, fmt.Errorf("running the simulator: %w", err)
		}
		cfg.SchemaIDs = ids
	}
	g := NewGenerator(cfg)
	if err := g.Err(); err != nil {
		return Stats{}, fmt.Errorf("running the simulator: %w", err)
	}
	rate := g.cfg.Rate

	var (
		mu       sync.Mutex
		acked    = newStats()
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	lastReport := start
	report := func() {
		if progress == nil {
			return
		}
		mu.Lock()
		s := acked.clone()
		mu.Unlock()
		s.Elapsed = time.Since(start)
		progress(s)
	}
	headers := map[string][]kgo.RecordHeader{}
	for _, f := range []string{FormatJSON, FormatAvro} {
		headers[f] = []kgo.RecordHeader{{Key: "content-type", Value: []byte(contentType(f))}, {Key: "producer", Value: []byte("pulse-sim")}}
	}

	var runErr error
	for sent := 0; ; sent++ {
		if err := ctx.Err(); err != nil {
			break
		}
		mu.Lock()
		failed := firstErr
		mu.Unlock()
		if failed != nil {
			break
		}
		if wait := time.Until(start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			if ctx.Err() != nil {
				break
			}
		}
		ev, ok := g.Next()
		if !ok {
			if err := g.Err(); err != nil {
				runErr = fmt.Errorf("generating event %d: %w", sent, err)
			}
			break
		}
		wg.Add(1)
		rec := &kgo.Record{Topic: ev.Topic, Key: ev.Key, Value: ev.Value, Headers: headers[FormatOf(g.cfg.Format, ev.Topic)]}
		client.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil && ctx.Err() == nil {
					firstErr = fmt.Errorf("producing to %s: %w", ev.Topic, err)
				}
				return
			}
			acked.add(ev)
		})
		if time.Since(lastReport) >= time.Second {
			lastReport = time.Now()
			report()
		}
	}
	if err := client.Flush(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = fmt.Errorf("flushing produced events: %w", err)
	}
	wg.Wait()
	report()
	mu.Lock()
	defer mu.Unlock()
	s := acked.clone()
	s.Elapsed = time.Since(start)
	if runErr == nil {
		runErr = firstErr
	}
	return s, runErr
}

func contentType(format string) string {
	if format == FormatAvro {
		return "application/vnd.confluent.avro"
	}
	return "application/json"
}
