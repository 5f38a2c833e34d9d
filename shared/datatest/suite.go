package datatest

import (
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/marts"
)

// Seed 003's event names, as the stream path stores them in EVENT_NAME.
var consumerEventNames = []string{"consumer_registration", "sign_in", "sign_out", "item_view", "added_to_cart", "checkout_to_cart"}

// consumerTables are the base tables of the marts.
var consumerTables = []string{"CONSUMER_USERS", "CONSUMER_EVENTS", "ITEM_VIEW_EVENTS", "CART_EVENTS", "MOVIES"}

func notNull(group, tbl string, cols ...string) Test {
	return Test{Group: group, Table: tbl, Kind: NotNull, Column: cols}
}

func unique(group, tbl string, cols ...string) Test {
	return Test{Group: group, Table: tbl, Kind: Unique, Column: cols}
}

func accepted(group, tbl, col string, values ...string) Test {
	return Test{Group: group, Table: tbl, Kind: AcceptedValues, Column: []string{col}, Values: values}
}

func rel(group, tbl, col, to, toCol string) Test {
	return Test{Group: group, Table: tbl, Kind: Relationships, Column: []string{col}, To: to, ToColumn: toCol}
}

func where(t Test, cond string) Test { t.Where = cond; return t }

func after(t Test, tables ...string) Test { t.After = append(t.After, tables...); return t }

// Suite is every data test Pulse runs, by group:
//
//   - star: the batch star schema (dimension keys, the standardized values
//     the dashboards group by, app interactions pointing at known app users);
//   - stream: the stream tables of shared/star/streams.go, including the
//     seed's example "every user_id in consumer events exists in users";
//   - gold: the keys of the gold tables;
//   - marts: the MART_* views' keys and segment values.
func Suite() []Test {
	var out []Test
	add := func(ts ...Test) { out = append(out, ts...) }
	add( // star
		notNull("star", "DIM_USER", "USER_S_ID"), unique("star", "DIM_USER", "USER_S_ID"),
		accepted("star", "DIM_USER", "AGE_GROUP", "13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "Unknown"),
		accepted("star", "DIM_USER", "GENDER", "Male", "Female", "Other"),
		unique("star", "DIM_PLATFORM", "PLATFORM_ID"),
		// The platforms known when the suite is built: the built-in ones and
		// those of the platform registry (pulse replay --add-platform).
		accepted("star", "DIM_PLATFORM", "PLATFORM", append([]string{"Unknown"}, dataset.KnownPlatforms()...)...),
		unique("star", "DIM_APP_USER", "USER_ID"),
		accepted("star", "FACT_APP_INTERACTIONS", "ACTION_TYPE", "page_view", "edit", "create", "delete", "share"),
		rel("star", "FACT_APP_INTERACTIONS", "USER_ID", "DIM_APP_USER", "USER_ID"),
	)
	add( // stream
		notNull("stream", "CONSUMER_EVENTS", "EVENT_ID"), unique("stream", "CONSUMER_EVENTS", "EVENT_ID"),
		notNull("stream", "CONSUMER_EVENTS", "USER_ID"),
		accepted("stream", "CONSUMER_EVENTS", "EVENT_NAME", consumerEventNames...),
		rel("stream", "CONSUMER_EVENTS", "USER_ID", "CONSUMER_USERS", "USER_ID"),
		notNull("stream", "CONSUMER_USERS", "USER_ID"), unique("stream", "CONSUMER_USERS", "USER_ID"),
		unique("stream", "ITEM_VIEW_EVENTS", "EVENT_ID"),
		rel("stream", "ITEM_VIEW_EVENTS", "USER_ID", "CONSUMER_USERS", "USER_ID"),
		rel("stream", "ITEM_VIEW_EVENTS", "ITEM_ID", "MOVIES", "ITEM_ID"),
		unique("stream", "CART_EVENTS", "EVENT_ID"),
		accepted("stream", "CART_EVENTS", "EVENT_NAME", "added_to_cart", "checkout_to_cart"),
		rel("stream", "CART_EVENTS", "USER_ID", "CONSUMER_USERS", "USER_ID"),
		where(rel("stream", "CART_EVENTS", "ITEM_ID", "MOVIES", "ITEM_ID"), "EVENT_NAME = 'added_to_cart'"),
		where(accepted("stream", "CART_EVENTS", "PAYMENT_METHOD", "Cash", "Card"), "EVENT_NAME = 'checkout_to_cart'"),
		unique("stream", "MOVIES", "ITEM_ID"), notNull("stream", "MOVIES", "PRICE"),
		unique("stream", "FACT_SOCIAL_SALES", "SALE_ID"), notNull("stream", "FACT_SOCIAL_SALES", "PLATFORM"),
		unique("stream", "PAGEVIEWS", "PAGEVIEW_ID"),
		accepted("stream", "PAGEVIEWS", "PAGE_SOURCE", "Homepage", "Inbox", "External"),
		unique("stream", "CLEANED_USERS", "USER_ID"), notNull("stream", "CLEANED_USERS", "AGE", "GENDER", "COUNTRY"),
		accepted("stream", "USER_REGISTRATION_METRICS", "WINDOW_TYPE", "tumbling", "sliding"),
		accepted("stream", "PAGEVIEW_WINDOW_METRICS", "WINDOW_TYPE", "tumbling", "hopping", "session"),
		accepted("stream", "MOVIE_SALES_METRICS", "WINDOW_TYPE", "daily", "weekly"),
	)
	add( // gold
		unique("gold", "GOLD_SESSIONS", "SESSION_ID"), notNull("gold", "GOLD_SESSIONS", "USER_ID", "DAY"),
		unique("gold", "GOLD_ACTIVE_USERS", "DAY", "USER_ID"),
		unique("gold", "GOLD_DAILY", "DAY"),
	)
	add( // marts
		after(unique("marts", "MART_USER_SEGMENTS", "USER_ID"), consumerTables...),
		after(accepted("marts", "MART_USER_SEGMENTS", "SEGMENT", marts.Segments...), consumerTables...),
		after(unique("marts", "MART_MOVIE_STATS", "ITEM_ID"), consumerTables...),
		after(unique("marts", "MART_USER_ACTIVITY", "USER_ID", "DAY"), consumerTables...),
	)
	return out
}

// ForTables returns the Suite tests a load of the named tables should
// re-run: those on one of them, pointing at one of them, or listing one of
// them in After.
func ForTables(names ...string) []Test {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	var out []Test
	for _, t := range Suite() {
		hit := set[t.Table] || set[t.To]
		for _, a := range t.After {
			hit = hit || set[a]
		}
		if hit {
			out = append(out, t)
		}
	}
	return out
}

// Group returns the Suite tests of one group (star, stream, gold, marts).
func Group(name string) []Test {
	var out []Test
	for _, t := range Suite() {
		if t.Group == name {
			out = append(out, t)
		}
	}
	return out
}
