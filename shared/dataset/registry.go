package dataset

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The registry is the one list of Pulse's datasets. Everything that used to
// keep its own list derives it from here: the warehouse tables (Tables),
// Load's tables (the manifest's spec), the stream engine's datasets without
// windows, and infra's raw-prefix notifications and topic mappings.
var registry struct {
	sync.RWMutex
	byName map[string]*Spec
	order  []*Spec
}

// Register adds a spec to the registry. It panics on a duplicate name or
// on a table name two specs declare with different schemas (specs are
// registered from package variables at init, or by a test before use).
func Register(s *Spec) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[s.Name]; dup {
		panic("dataset registered twice: " + s.Name)
	}
	seen := map[string]*table.Schema{}
	for _, t := range star.Pipeline() {
		seen[t.Name] = t
	}
	for _, o := range registry.order {
		for _, tm := range o.Star {
			seen[tm.Table.Name] = tm.Table
		}
	}
	for _, tm := range s.Star {
		if t, ok := seen[tm.Table.Name]; ok && t != tm.Table {
			panic(fmt.Sprintf("dataset %s: table %s is already declared with another schema", s.Name, tm.Table.Name))
		}
	}
	if registry.byName == nil {
		registry.byName = map[string]*Spec{}
	}
	registry.byName[s.Name] = s
	registry.order = append(registry.order, s)
}

// Lookup returns the named dataset spec.
func Lookup(name string) (*Spec, error) {
	registry.RLock()
	s, ok := registry.byName[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (known: %v)", name, Names())
	}
	return s, nil
}

// Names lists the registered datasets, sorted.
func Names() []string {
	var out []string
	for _, s := range All() {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// All lists the registered specs in registration order.
func All() []*Spec {
	registry.RLock()
	defer registry.RUnlock()
	return append([]*Spec(nil), registry.order...)
}

// BatchNames lists the datasets whose files start the batch workflow
// (Spec.Batch), in registration order.
func BatchNames() []string {
	var out []string
	for _, s := range All() {
		if s.Batch {
			out = append(out, s.Name)
		}
	}
	return out
}

// Topics lists the Kafka topics of the stream datasets whose values are
// Avro (avro true) or JSON (avro false), in registration order.
func Topics(avro bool) []string {
	var out []string
	for _, s := range All() {
		if s.Stream != nil && s.Stream.Avro == avro {
			out = append(out, s.Topic())
		}
	}
	return out
}

// Tables is every table of the warehouse model: the dimensions the
// registered specs map to, then their other tables (in registration
// order, each once), then the pipeline's own tables (star.Pipeline).
func Tables() []*table.Schema {
	var dims, others []*table.Schema
	seen := map[*table.Schema]bool{}
	for _, s := range All() {
		for _, tm := range s.Star {
			t := tm.Table
			if seen[t] {
				continue
			}
			seen[t] = true
			if strings.HasPrefix(t.Name, "DIM_") {
				dims = append(dims, t)
			} else {
				others = append(others, t)
			}
		}
	}
	return append(append(dims, others...), star.Pipeline()...)
}

// Schemas returns Tables as values, for Warehouse.Migrate.
func Schemas() []table.Schema {
	var out []table.Schema
	for _, t := range Tables() {
		out = append(out, *t)
	}
	return out
}
