package bench

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/dedupetest"
)

// The RSS run's dedupe (keys in the parent, served over a Unix socket)
// passes the Dedupe conformance suite.
func TestRemoteDedupeConformance(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		sock := filepath.Join(t.TempDir(), "d.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() {
			served <- ServeDedupe(ln, memory.NewDedupeWith(memory.DedupeOptions{TTL: dedupetest.TTL, Now: clock.Now}))
		}()
		d, err := DialDedupe(sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			d.Close()
			ln.Close()
			if err := <-served; err != nil {
				t.Errorf("dedupe server: %v", err)
			}
		})
		return d
	})
}
