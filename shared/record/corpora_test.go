package record

import (
	"testing"

	testcorpora "github.com/pulse-analytics/pulse/tests/corpora"
)

// corpora returns the test corpora folder (tests/corpora).
func corpora(t testing.TB) string { return testcorpora.Dir(t) }
