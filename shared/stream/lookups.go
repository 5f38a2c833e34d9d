package stream

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// lookups answers the joins the processors make against tables other
// topics fill (seed 003 carts and prices, seed 004 users): first from the
// rows of the current batch, then from the warehouse, where earlier
// batches merged them. The SQL is the plain subset DuckDB and Snowflake share.
type lookups struct {
	wh     port.Warehouse
	from   func(table string) string // what to select a table's rows from (Pipeline.source); nil: the table
	users  map[string]userInfo       // this batch's cleaned users rows (latest)
	prices map[string]float64        // this batch's catalog rows
}

type userInfo struct {
	age     int64
	country string
}

type cartItem struct {
	item string
	t    int64 // Unix µs of the added_to_cart event
}

// table is what the lookups select name's rows from.
func (l *lookups) table(name string) string {
	if l.from == nil {
		return name
	}
	return l.from(name)
}

// lookupChunk bounds the ids in one IN list.
const lookupChunk = 500

func (l *lookups) query(ctx context.Context, sqlHead string, ids []string, each func(row []any) error) error {
	ids = uniqueSorted(ids)
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		q := sqlHead + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + ")"
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		_, rows, err := l.wh.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("looking up %d ids: %w", len(chunk), err)
		}
		for _, row := range rows {
			if err := each(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// userRows returns the cleaned users row of each id that has one.
func (l *lookups) userRows(ctx context.Context, ids []string) (map[string]userInfo, error) {
	out := map[string]userInfo{}
	var missing []string
	for _, id := range ids {
		if u, ok := l.users[id]; ok {
			out[id] = u
		} else {
			missing = append(missing, id)
		}
	}
	err := l.query(ctx, "SELECT USER_ID, AGE, COUNTRY FROM "+l.table("CLEANED_USERS")+" WHERE USER_ID", missing, func(row []any) error {
		age, ok1 := asInt(row[1])
		country, ok2 := row[2].(string)
		if ok1 && ok2 {
			out[asString(row[0])] = userInfo{age: age, country: country}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up users: %w", err)
	}
	return out, nil
}

// cartItems returns the added_to_cart items of each cart found in the
// warehouse.
func (l *lookups) cartItems(ctx context.Context, carts []string) (map[string][]cartItem, error) {
	out := map[string][]cartItem{}
	err := l.query(ctx, "SELECT CART_ID, ITEM_ID, EVENT_TIME FROM "+l.table("CART_EVENTS")+" WHERE EVENT_NAME = 'added_to_cart' AND CART_ID", carts, func(row []any) error {
		t, ok := asMicros(row[2])
		if !ok {
			return fmt.Errorf("CART_EVENTS.EVENT_TIME of cart %v is %T %v, not a timestamp", row[0], row[2], row[2])
		}
		c := asString(row[0])
		out[c] = append(out[c], cartItem{item: asString(row[1]), t: t})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up carts: %w", err)
	}
	return out, nil
}

// priceOf returns the catalog price of each item that has one.
func (l *lookups) priceOf(ctx context.Context, items []string) (map[string]float64, error) {
	out := map[string]float64{}
	var missing []string
	for _, it := range items {
		if p, ok := l.prices[it]; ok {
			out[it] = p
		} else {
			missing = append(missing, it)
		}
	}
	err := l.query(ctx, "SELECT ITEM_ID, PRICE FROM "+l.table("MOVIES")+" WHERE ITEM_ID", missing, func(row []any) error {
		if p, ok := asFloat(row[1]); ok {
			out[asString(row[0])] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up movie prices: %w", err)
	}
	return out, nil
}

func uniqueSorted(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	s := append([]string(nil), ids...)
	sort.Strings(s)
	out := s[:1]
	for _, id := range s[1:] {
		if id != out[len(out)-1] {
			out = append(out, id)
		}
	}
	return out
}

// The warehouse adapters return strings, numbers, bools and times; these
// read them whatever the driver chose.

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == math.Trunc(x)
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		return i, err == nil
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func asMicros(v any) (int64, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMicro(), true
	case int64:
		return x, true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999 -0700"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UnixMicro(), true
			}
		}
	}
	return 0, false
}
