package e2e

import (
	"os"
	"testing"
)

// TestMain removes the pulse binary buildPulse built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
