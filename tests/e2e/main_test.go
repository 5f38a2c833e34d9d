package e2e

import (
	"os"
	"testing"
)

// TestMain removes the pulse binary buildPulse built, if any, and what the
// local cloud tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	removeCloudDir()
	os.Exit(code)
}
