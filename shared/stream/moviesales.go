package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// movieSales: seed 003 task 6. Total sales per movie per daily and weekly
// (Monday 00:00 UTC) tumbling window. A checkout names a cart; the cart's
// movies are its added_to_cart events up to the checkout's time (from
// CART_EVENTS and the batch at hand) and each is priced from MOVIES.
//
// Carts arrive on another topic than checkouts, so checkouts wait in a
// reorder buffer until the added_to_cart topic has passed their time too;
// then every cart addition before the checkout has been loaded, whatever
// order the two topics were consumed in. An added_to_cart behind its
// topic's watermark is late (not loaded, so it never half-joins). A
// checkout is late for a window when the window ended before its topic's
// watermark. A movie without a price, or a cart without additions, is
// recorded in PULSE_REJECTS (dataset movie_sales_metrics) with the reason.
type movieSales struct {
	cfg Config
	buf *reorder
	es  engines
	as  map[string]window.Assigner
}

type movieSalesState struct {
	Buffer  json.RawMessage `json:"buffer"`
	Engines json.RawMessage `json:"engines"`
}

// Checkout flags in pending.Flag.
const flagDailyMissed = 1

func newMovieSales(c Config) processor {
	as := map[string]window.Assigner{
		"daily":  window.Tumbling(24 * time.Hour).Named("daily"),
		"weekly": window.Tumbling(7 * 24 * time.Hour).Offset(4 * 24 * time.Hour).Named("weekly"),
	}
	es := engines{}
	for name, a := range as {
		// The reorder buffer orders the events; the engines only sum them
		// and close windows at the frontier (AdvanceTo).
		es[name] = mustEngine(window.Config{Assigners: []window.Assigner{a}, Aggregate: window.Sum(),
			AllowedLateness: -1, IdleTimeout: -1, EmitPartial: true})
	}
	return &movieSales{cfg: c, buf: newReorder(c, "checkout_to_cart", "added_to_cart"), es: es, as: as}
}

func (p *movieSales) name() string       { return "movie_sales_metrics" }
func (p *movieSales) datasets() []string { return []string{"checkout_to_cart", "added_to_cart"} }

func (p *movieSales) snapshot() ([]byte, error) {
	buf, err := json.Marshal(p.buf)
	if err != nil {
		return nil, err
	}
	es, err := p.es.snapshot()
	if err != nil {
		return nil, err
	}
	return rawObject([]string{"buffer", "engines"}, [][]byte{buf, es}), nil
}

func (p *movieSales) restore(data []byte) error {
	p.buf.reset()
	var st movieSalesState
	if len(data) > 0 {
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding movie sales state: %w", err)
		}
		if err := json.Unmarshal(st.Buffer, p.buf); err != nil {
			return fmt.Errorf("decoding movie sales buffer: %w", err)
		}
		if p.buf.MaxT == nil || p.buf.Seen == nil {
			return fmt.Errorf("decoding movie sales buffer: no watermarks")
		}
	}
	return p.es.restore(st.Engines)
}

func (p *movieSales) apply(ctx context.Context, now time.Time, recs []*rec, o *outputs, lk *lookups) error {
	adds := map[string][]cartItem{}
	var ready []pending
	for _, r := range recs {
		in := r.msg.Topic
		own, bound := p.buf.ownWatermark(in), p.buf.lateBound(in)
		p.buf.seen(in, r.t, now)
		if in == "added_to_cart" {
			if r.t < bound {
				r.status = statusLate
				o.addLate(r, "checkout_join", window.Window{Start: fromMicros(r.t), End: fromMicros(bound)}, bound)
				continue
			}
			c := r.str("cart_id")
			adds[c] = append(adds[c], cartItem{item: r.str("item_id"), t: r.t})
			continue
		}
		daily := p.as["daily"].Windows(fromMicros(r.t))[0]
		weekly := p.as["weekly"].Windows(fromMicros(r.t))[0]
		pe := pending{T: r.t, Input: in, Origin: r.origin(), Key: r.str("cart_id")}
		if micros(weekly.End) <= own {
			r.status = statusLate
			o.addLate(r, "daily", daily, own)
			o.addLate(r, "weekly", weekly, own)
			continue
		}
		if micros(daily.End) <= own {
			pe.Flag = flagDailyMissed
			o.addLate(r, "daily", daily, own)
		}
		if r.t < p.buf.Frontier {
			ready = append(ready, pe) // every cart addition before it is in already
		} else {
			p.buf.add(pe)
		}
	}
	return p.settle(ctx, append(ready, p.buf.advance(now)...), adds, o, lk, false)
}

func (p *movieSales) advance(ctx context.Context, now time.Time, o *outputs, lk *lookups) error {
	before := p.buf.Frontier
	released := p.buf.advance(now)
	if p.buf.Frontier == before && len(released) == 0 {
		return nil
	}
	return p.settle(ctx, released, nil, o, lk, false)
}

func (p *movieSales) flush(ctx context.Context, _ time.Time, o *outputs, lk *lookups) error {
	return p.settle(ctx, p.buf.flush(), nil, o, lk, true)
}

// settle prices the checkouts, folds their movies into the windows and
// closes the windows the frontier passed (all of them when flushing).
func (p *movieSales) settle(ctx context.Context, ready []pending, adds map[string][]cartItem, o *outputs, lk *lookups, flush bool) error {
	sort.Slice(ready, func(i, j int) bool {
		if ready[i].T != ready[j].T {
			return ready[i].T < ready[j].T
		}
		return ready[i].Origin < ready[j].Origin
	})
	evs, err := p.price(ctx, ready, adds, o, lk)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(p.es) {
		e := p.es[name]
		var mine []window.Event
		for _, ev := range evs {
			if name == "daily" && ev.Origin.Offset == flagDailyMissed {
				continue
			}
			mine = append(mine, window.Event{Key: ev.Key, Time: ev.Time, Value: ev.Value})
		}
		out := e.Apply(o.now, mine)
		for _, l := range out.Late {
			// Cannot happen: the frontier never passes an open window's events.
			return fmt.Errorf("movie sales: %s window engine found %s at %s late", name, l.Event.Key, l.Event.Time)
		}
		p.results(out, o)
		switch {
		case flush:
			p.results(e.Flush(), o)
		case p.buf.Frontier != noTime:
			p.results(e.AdvanceTo(fromMicros(p.buf.Frontier)), o)
		}
	}
	return nil
}

// price turns checkouts into one event per movie in the cart, priced; the
// event's Origin.Offset carries the checkout's flags.
func (p *movieSales) price(ctx context.Context, ready []pending, adds map[string][]cartItem, o *outputs, lk *lookups) ([]window.Event, error) {
	if len(ready) == 0 {
		return nil, nil
	}
	carts := make([]string, len(ready))
	for i, pe := range ready {
		carts[i] = pe.Key
	}
	stored, err := lk.cartItems(ctx, carts)
	if err != nil {
		return nil, err
	}
	type line struct {
		pe   pending
		item string
	}
	var lines []line
	var items []string
	for _, pe := range ready {
		seen := map[string]bool{} // an addition both stored and in the batch (a retried batch) counts once
		n := 0
		for _, src := range [][]cartItem{stored[pe.Key], adds[pe.Key]} {
			for _, it := range src {
				id := it.item + "|" + itoa(it.t)
				if it.t > pe.T || seen[id] {
					continue
				}
				seen[id] = true
				lines = append(lines, line{pe, it.item})
				items = append(items, it.item)
				n++
			}
		}
		if n == 0 {
			p.reject(o, pe, "", "cart_id", "no added_to_cart for cart "+pe.Key+" before its checkout")
		}
	}
	prices, err := lk.priceOf(ctx, items)
	if err != nil {
		return nil, err
	}
	var evs []window.Event
	for _, l := range lines {
		price, ok := prices[l.item]
		if !ok {
			p.reject(o, l.pe, l.item, "item_id", "no price in MOVIES for item "+l.item+" of cart "+l.pe.Key)
			continue
		}
		evs = append(evs, window.Event{Key: l.item, Time: fromMicros(l.pe.T), Value: price, Origin: window.Origin{Offset: int64(l.pe.Flag)}})
	}
	return evs, nil
}

// reject records a checkout (or one of its movies) that cannot be counted.
func (p *movieSales) reject(o *outputs, pe pending, item, field, reason string) {
	record, _ := json.Marshal(map[string]string{"cart_id": pe.Key, "item_id": item})
	q := pipeline.QuarantineRecord{Dataset: "movie_sales_metrics", Origin: pe.Origin + "|" + item, Source: "kafka://" + pe.Origin,
		Field: field, Reason: reason, Record: string(record)}
	o.add(star.Rejects, pipeline.RejectRow(q, micros(o.now)))
}

func (p *movieSales) results(out window.Output, o *outputs) {
	for _, r := range out.Results {
		start, end := windowCells(r.Window)
		o.add(star.MovieSalesMetrics, table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: r.Key}, {S: r.Assigner},
			start, end, {F: r.Value.Sum}, {I: r.Value.Count}, {B: r.Final}, {I: micros(o.now)}})
	}
}
