package window_test

import (
	"testing"

	"github.com/pulse-analytics/pulse/shared/window"
	"github.com/pulse-analytics/pulse/shared/window/storetest"
)

func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store { return window.NewMemStore() })
}
