package gold

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// DayResult is one computed day, as GOLD_DAILY holds it, plus the MAU and
// WAU of the day over whatever days are computed when it is read.
type DayResult struct {
	Date                  string   `json:"date"`
	Interactions          int64    `json:"interactions"`
	ExcludedDuration      int64    `json:"excludedDuration"`
	ExcludedSameTimestamp int64    `json:"excludedSameTimestamp"`
	Actions               int64    `json:"actions"`
	DAU                   int64    `json:"dau"`
	WAU                   int64    `json:"wau"`
	MAU                   int64    `json:"mau"`
	Sessions              int64    `json:"sessions"`
	AvgSessionSeconds     *float64 `json:"avgSessionSeconds"` // nil on a day without sessions
	AvgActionsPerSession  *float64 `json:"avgActionsPerSession"`
}

// Day computes one UTC day (Compute over [date, date]) and returns its row.
func Day(ctx context.Context, wh port.Warehouse, date, at time.Time) (*DayResult, error) {
	date = day(date)
	if err := Compute(ctx, wh, date, date, at); err != nil {
		return nil, err
	}
	return Read(ctx, wh, date)
}

// Read returns a computed day's GOLD_DAILY row with its rolling WAU and
// MAU, or an error if the day was never computed.
func Read(ctx context.Context, wh port.Warehouse, date time.Time) (*DayResult, error) {
	d := sqlmodel.Of(wh)
	lit := d.DateLiteral(day(date))
	wauFrom, _ := d.DateAdd("day", fmt.Sprint(-(WAUDays - 1)), lit)
	mauFrom, _ := d.DateAdd("day", fmt.Sprint(-(MAUDays - 1)), lit)
	q := "SELECT g.INTERACTIONS, g.EXCLUDED_DURATION, g.EXCLUDED_SAME_TIMESTAMP, g.ACTIONS, g.DAU, g.SESSIONS," +
		" g.AVG_SESSION_SECONDS, g.AVG_ACTIONS_PER_SESSION," +
		" (SELECT COUNT(DISTINCT USER_ID) FROM GOLD_ACTIVE_USERS WHERE DAY BETWEEN " + wauFrom + " AND " + lit + ")," +
		" (SELECT COUNT(DISTINCT USER_ID) FROM GOLD_ACTIVE_USERS WHERE DAY BETWEEN " + mauFrom + " AND " + lit + ")" +
		" FROM GOLD_DAILY g WHERE g.DAY = " + lit
	_, rows, err := wh.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading gold for %s: %w", date.Format(DateLayout), err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("reading gold for %s: %d rows in GOLD_DAILY", date.Format(DateLayout), len(rows))
	}
	r := rows[0]
	ints := make([]int64, 0, 8)
	for _, i := range []int{0, 1, 2, 3, 4, 5, 8, 9} {
		n, err := asInt(r[i])
		if err != nil {
			return nil, fmt.Errorf("reading gold for %s: column %d: %w", date.Format(DateLayout), i, err)
		}
		ints = append(ints, n)
	}
	return &DayResult{
		Date: date.Format(DateLayout), Interactions: ints[0], ExcludedDuration: ints[1], ExcludedSameTimestamp: ints[2],
		Actions: ints[3], DAU: ints[4], Sessions: ints[5], WAU: ints[6], MAU: ints[7],
		AvgSessionSeconds: asFloatPtr(r[6]), AvgActionsPerSession: asFloatPtr(r[7]),
	}, nil
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("not a number: %T %v", v, v)
}

func asFloatPtr(v any) *float64 {
	switch x := v.(type) {
	case float64:
		return &x
	case int64:
		f := float64(x)
		return &f
	}
	return nil
}

// PresentRange returns the first and last UTC day that have app
// interactions; ok is false when there are none.
func PresentRange(ctx context.Context, wh port.Warehouse) (from, to time.Time, ok bool, err error) {
	_, rows, err := wh.Query(ctx, "SELECT MIN(EVENT_DATE), MAX(EVENT_DATE) FROM FACT_APP_INTERACTIONS")
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("finding the days with app interactions: %w", err)
	}
	if len(rows) != 1 {
		return time.Time{}, time.Time{}, false, nil
	}
	a, aok := rows[0][0].(time.Time)
	b, bok := rows[0][1].(time.Time)
	if !aok || !bok {
		return time.Time{}, time.Time{}, false, nil
	}
	return day(a), day(b), true, nil
}

// DaysWithData lists, oldest first, the UTC days in [from, to] that have
// app interactions.
func DaysWithData(ctx context.Context, wh port.Warehouse, from, to time.Time) ([]time.Time, error) {
	days, err := Dates(from, to)
	if err != nil {
		return nil, err
	}
	d := sqlmodel.Of(wh)
	_, rows, err := wh.Query(ctx, "SELECT DISTINCT EVENT_DATE FROM FACT_APP_INTERACTIONS WHERE EVENT_DATE BETWEEN "+
		d.DateLiteral(days[0])+" AND "+d.DateLiteral(days[len(days)-1])+" ORDER BY EVENT_DATE")
	if err != nil {
		return nil, fmt.Errorf("finding the days with app interactions in %s: %w", rangeText(days), err)
	}
	var out []time.Time
	for _, r := range rows {
		if t, ok := r[0].(time.Time); ok {
			out = append(out, day(t))
		}
	}
	return out, nil
}

// Refresh creates the gold tables if needed and recomputes every day from
// the first to the last day with app interactions, in one Compute. It
// returns that range (zero times when there are no interactions). The demo
// calls it after loading files.
func Refresh(ctx context.Context, wh port.Warehouse, at time.Time) (from, to time.Time, err error) {
	if err := Migrate(ctx, wh); err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, to, ok, err := PresentRange(ctx, wh)
	if err != nil || !ok {
		return time.Time{}, time.Time{}, err
	}
	return from, to, Compute(ctx, wh, from, to, at)
}

// Progress reports one finished day of a Backfill.
type Progress struct {
	Date   time.Time
	Done   int // days finished so far, this one included
	Total  int
	Result *DayResult // nil on error
	Err    error
	Took   time.Duration
}

// BackfillOptions tune Backfill.
type BackfillOptions struct {
	Parallel int              // days computed at once (default 4)
	Now      func() time.Time // COMPUTED_AT (default time.Now)
	Progress func(p Progress) // called after each day, from one goroutine at a time
	Migrate  bool             // create the gold tables first
}

// Backfill computes every day in [from, to] with Day, opts.Parallel days
// at a time, and reports each finished day. A failed day does not stop the
// others; the error names every failed day, so they can be run again. The
// result equals one Compute over the whole range (see the package comment).
func Backfill(ctx context.Context, wh port.Warehouse, from, to time.Time, opts BackfillOptions) ([]*DayResult, error) {
	days, err := Dates(from, to)
	if err != nil {
		return nil, err
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Migrate {
		if err := Migrate(ctx, wh); err != nil {
			return nil, err
		}
	}
	jobs := make(chan time.Time)
	var (
		mu      sync.Mutex
		done    int
		results = make([]*DayResult, 0, len(days))
		failed  []error
		wg      sync.WaitGroup
	)
	for w := 0; w < min(opts.Parallel, len(days)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				t0 := time.Now()
				res, err := Day(ctx, wh, d, opts.Now())
				if err != nil {
					err = fmt.Errorf("%s: %w", d.Format(DateLayout), err)
				}
				mu.Lock()
				done++
				if err != nil {
					failed = append(failed, err)
				} else {
					results = append(results, res)
				}
				if opts.Progress != nil {
					opts.Progress(Progress{Date: d, Done: done, Total: len(days), Result: res, Err: err, Took: time.Since(t0)})
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, d := range days {
		select {
		case jobs <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return results[i].Date < results[j].Date })
	if err := ctx.Err(); err != nil {
		failed = append(failed, fmt.Errorf("backfill stopped after %d of %d days: %w", done, len(days), err))
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("backfill %s: %d of %d days failed: %w", rangeText(days), len(failed), len(days), errors.Join(failed...))
	}
	return results, nil
}

// StaleDays lists, oldest first, the days that have app interactions but
// no gold yet, or whose facts were ingested after the day's gold was
// computed minus margin (the longest a file takes from ingestion to load,
// so a file loaded just after a compute is not missed; a day recomputed
// once more than needed costs nothing, Compute being idempotent). The
// daily job adds them to the day before, so late files are folded in.
func StaleDays(ctx context.Context, wh port.Warehouse, margin time.Duration) ([]time.Time, error) {
	d := sqlmodel.Of(wh)
	computed, err := d.DateAdd("second", fmt.Sprint(-int64(margin.Seconds())), "g.COMPUTED_AT")
	if err != nil {
		return nil, err
	}
	_, rows, err := wh.Query(ctx, "SELECT DISTINCT f.EVENT_DATE FROM FACT_APP_INTERACTIONS f LEFT JOIN GOLD_DAILY g ON g.DAY = f.EVENT_DATE"+
		" WHERE g.DAY IS NULL OR f.INGESTION_TIMESTAMP > "+computed+" ORDER BY f.EVENT_DATE")
	if err != nil {
		return nil, fmt.Errorf("finding days whose gold is stale: %w", err)
	}
	var out []time.Time
	for _, r := range rows {
		if t, ok := r[0].(time.Time); ok {
			out = append(out, day(t))
		}
	}
	return out, nil
}
