package events

import (
	"reflect"
	"sort"
	"testing"

	"github.com/pulse-analytics/pulse/shared/dataset"
)

// TestSchemasMatchRegistry: every stream dataset of the registry has an
// Avro schema here, and every schema here is a registered stream dataset's
// topic (a dataset added without its .avsc, or an .avsc left behind, fails).
func TestSchemasMatchRegistry(t *testing.T) {
	want := append(dataset.Topics(false), dataset.Topics(true)...)
	sort.Strings(want)
	if got := Topics(); !reflect.DeepEqual(got, want) {
		t.Errorf("schemas for topics %v, the registry's stream topics are %v", got, want)
	}
}
