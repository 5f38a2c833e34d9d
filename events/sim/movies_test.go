package sim

import (
	"testing"

	"github.com/pulse-analytics/pulse/shared/dataset"
)

// Every ListPrice the simulator writes parses to the price it meant.
func TestMoviesListPricesParse(t *testing.T) {
	for _, m := range Movies() {
		p, err := dataset.ParseListPrice(m.ListPrice)
		if err != nil {
			t.Fatalf("%s: %v", m.ItemID, err)
		}
		if p.Dollars() != m.Price || p.Currency != m.Currency {
			t.Fatalf("%s: %q parsed to %v %s, want %v %s", m.ItemID, m.ListPrice, p.Dollars(), p.Currency, m.Price, m.Currency)
		}
	}
}
