package port

import "context"

// CatalogTopic is the Kafka topic the movie-catalog events (Movie) go to.
const CatalogTopic = "movies_catalog_enriched"

// Movie is one movies_catalog_enriched event; the JSON names are the
// fields of events/schemas/movies_catalog_enriched.avsc.
type Movie struct {
	ItemID       string  `json:"item_id"`
	Title        string  `json:"title"`
	Genre        string  `json:"genre"`
	ListPriceRaw string  `json:"list_price_raw"` // as found, e.g. "4999USD$49.99"
	Price        float64 `json:"price"`          // the dollar value, 49.99
	Currency     string  `json:"currency"`       // ISO 4217, "USD"
}

// Producer sends events to the catalog topic, keyed by item ID. Produce
// returns once every event is acknowledged.
type Producer interface {
	Produce(ctx context.Context, movies []Movie) error
}
