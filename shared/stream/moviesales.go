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
// reorder buffer until every partition of the added_to_cart topic has
// passed their time too; then every cart addition before the checkout has
// been loaded, whatever order the topics and partitions were consumed in.
//
// An added_to_cart behind its partition's watermark W (or the frontier, if
// further) is late. It is loaded into CART_EVENTS like any other, but the
// checkouts of its cart in [its time, W) may have been priced without it
// already (every checkout priced so far is before the frontier), so none
// of them counts it: that is the window it missed, its checkout_join row
// in PULSE_LATE_EVENTS. A checkout at or after W joins it as usual. The
// processor remembers each late addition and its W until no checkout
// before W can still be priced (the checkout topic's watermark has passed
// the week of W, and the frontier W itself), so the rule does not depend
// on how the two topics' batches interleave.
//
// A checkout is late for a window when the window ended before its
// partition's watermark (or the frontier); a checkout late for its week is loaded into
// CART_EVENTS and counts in no window. A movie without a price, or a cart
// without additions, is recorded in PULSE_REJECTS (dataset
// movie_sales_metrics) with the reason.
type movieSales struct {
	cfg  Config
	buf  *reorder
	es   engines
	as   map[string]window.Assigner
	late map[string][]lateAdd // cart id -> its late additions still to be kept out of checkouts before their Until
}

// lateAdd is a late added_to_cart: checkouts of its cart before Until
// (the watermark it met) do not count it.
type lateAdd struct {
	Item  string `json:"item"`
	T     int64  `json:"t"`
	Until int64  `json:"until"`
}

type movieSalesState struct {
	Buffer  json.RawMessage      `json:"buffer"`
	Engines json.RawMessage      `json:"engines"`
	Late    map[string][]lateAdd `json:"late,omitempty"`
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
	return &movieSales{cfg: c, buf: newReorder(c, "checkout_to_cart", "added_to_cart"), es: es, as: as, late: map[string][]lateAdd{}}
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
	if len(p.late) == 0 {
		return rawObject([]string{"buffer", "engines"}, [][]byte{buf, es}), nil
	}
	late, err := json.Marshal(p.late)
	if err != nil {
		return nil, err
	}
	return rawObject([]string{"buffer", "engines", "late"}, [][]byte{buf, es, late}), nil
}

func (p *movieSales) restore(data []byte) error {
	p.buf.reset()
	p.late = map[string][]lateAdd{}
	var st movieSalesState
	if len(data) > 0 {
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding movie sales state: %w", err)
		}
		p.buf.V = 0
		if err := json.Unmarshal(st.Buffer, p.buf); err != nil {
			return fmt.Errorf("decoding movie sales buffer: %w", err)
		}
		if p.buf.MaxT == nil || p.buf.Seen == nil {
			return fmt.Errorf("decoding movie sales buffer: no watermarks")
		}
		p.buf.upgrade()
		for c, ls := range st.Late {
			p.late[c] = ls
		}
	}
	return p.es.restore(st.Engines)
}

func (p *movieSales) apply(ctx context.Context, now time.Time, recs []*rec, o *outputs, lk *lookups) error {
	adds := map[string][]cartItem{}
	var ready []pending
	for _, r := range recs {
		in, part := r.msg.Topic, inputOf(r)
		bound := p.buf.lateBound(part)
		p.buf.seen(part, r.t, now)
		if in == "added_to_cart" {
			c := r.str("cart_id")
			if r.t < bound {
				r.late = true
				o.addLate(r, "checkout_join", window.Window{Start: fromMicros(r.t), End: fromMicros(bound)}, bound)
				p.late[c] = append(p.late[c], lateAdd{Item: r.str("item_id"), T: r.t, Until: bound})
			}
			adds[c] = append(adds[c], cartItem{item: r.str("item_id"), t: r.t})
			continue
		}
		daily := p.as["daily"].Windows(fromMicros(r.t))[0]
		weekly := p.as["weekly"].Windows(fromMicros(r.t))[0]
		pe := pending{T: r.t, Input: in, Origin: r.origin(), Key: r.str("cart_id")}
		// Late against its partition's watermark, or the frontier if
		// further (after an idle spell the frontier may have closed the
		// windows already: the engines must never see a late checkout).
		if micros(weekly.End) <= bound {
			r.late = true
			o.addLate(r, "daily", daily, bound)
			o.addLate(r, "weekly", weekly, bound)
			continue
		}
		if micros(daily.End) <= bound {
			pe.Flag = flagDailyMissed
			o.addLate(r, "daily", daily, bound)
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
	p.forgetLate()
	return nil
}

// missed reports whether a checkout at time t of cart must not count the
// addition of item at time added: a late addition it came before the
// watermark of.
func (p *movieSales) missed(cart, item string, added, t int64) bool {
	for _, l := range p.late[cart] {
		if l.Item == item && l.T == added && t < l.Until {
			return true
		}
	}
	return false
}

// forgetLate drops the late additions no checkout before their Until can
// still be priced for: every such checkout is released (the frontier is
// past Until) and any still to come is late for its week (the checkout
// topic's watermark is past the end of Until's week).
func (p *movieSales) forgetLate() {
	own := p.buf.topicWatermark("checkout_to_cart")
	if own == noTime {
		return
	}
	for c, ls := range p.late {
		keep := ls[:0]
		for _, l := range ls {
			week := p.as["weekly"].Windows(fromMicros(l.Until - 1))[0]
			if l.Until > p.buf.Frontier || micros(week.End) > own {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			delete(p.late, c)
		} else {
			p.late[c] = keep
		}
	}
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
				if it.t > pe.T || seen[id] || p.missed(pe.Key, it.item, it.t, pe.T) {
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
			start, end, {F: r.Value.Sum}, {I: r.Value.Count}, {B: r.Final}, {I: micros(o.now)}, start})
	}
}
