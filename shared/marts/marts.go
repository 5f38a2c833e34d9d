// Package marts states the rules of seed 003's data marts, the
// dbt-style models over the consumer events that dashboards/views
// implements as the MART_* views and shared/datatest checks:
//
//   - MART_PURCHASES: a checkout_to_cart names a cart, not items. A cart's
//     first checkout (earliest event time, then event id) buys every
//     added_to_cart row of that cart at or before the checkout time, each
//     at the movie's catalog price (MOVIES.PRICE; an item missing from the
//     catalog has no price and counts as 0, and the relationships data
//     test reports it). Later checkouts of the same cart buy nothing more.
//     A purchase belongs to the checkout's user and the checkout's UTC day.
//   - MART_USER_ACTIVITY: per user and UTC day, items viewed, items added
//     to cart, carts checked out, items purchased, amount spent, sign-ins.
//   - MART_MOVIE_STATS: per catalog movie, views, distinct viewers, adds to
//     cart, purchases, total sales and the average price paid.
//   - MART_USER_SEGMENTS: every registered user in exactly one segment,
//     the first of these rules that holds:
//     1. inactive: no item view, cart event, sign-in or sign-out in the
//     InactiveDays days ending at the newest such event of anyone (not
//     the wall clock, so the answer is reproducible), including users
//     who never did anything after registering;
//     2. high_value: spent at least HighValueMinSpend in total;
//     3. frequent_browser: at least FrequentBrowserMinViews item views;
//     4. regular: everyone else.
//
// The package holds only these rules, so the views, the data tests and
// the tests share one statement of them.
package marts

// Segmentation thresholds (see the package comment).
const (
	InactiveDays            = 30
	HighValueMinSpend       = 50.0 // dollars
	FrequentBrowserMinViews = 10
)

// Segment names, in rule order.
const (
	Inactive        = "inactive"
	HighValue       = "high_value"
	FrequentBrowser = "frequent_browser"
	Regular         = "regular"
)

// Segments lists every segment, in rule order.
var Segments = []string{Inactive, HighValue, FrequentBrowser, Regular}
