package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// LoadMode is how a batch reaches the warehouse (Config.LoadMode).
type LoadMode string

const (
	// LoadMerge, the default: every batch is one warehouse transaction
	// that MERGEs all it produced (Warehouse.BeginLoad).
	LoadMerge LoadMode = "merge"
	// LoadSnowpipe: no warehouse runs for a batch. The fact and event rows
	// of records taken in offset order are appended (Env.Appender) on a
	// channel per table and topic partition whose offset token is the
	// Kafka offset; every other row (metrics, sessions, snapshots,
	// dimensions, manifests, rejects, late events, facts of records
	// replayed out of order) is appended to the table's staging table
	// (<TABLE>_STAGING) on a channel per processor, with a version, and a
	// cadence merge (MergeStaged, every Config.MergeEvery) moves the
	// latest version of each key into the table in one transaction.
	LoadSnowpipe LoadMode = "snowpipe"
)

// ParseLoadMode reads a load mode ("" is LoadMerge).
func ParseLoadMode(s string) (LoadMode, error) {
	switch m := LoadMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", LoadMerge:
		return LoadMerge, nil
	case LoadSnowpipe:
		return m, nil
	}
	return "", fmt.Errorf("load mode %q: want %s or %s", s, LoadMerge, LoadSnowpipe)
}

// DefaultMergeEvery is the cadence of the snowpipe mode's merge.
const DefaultMergeEvery = 15 * time.Minute

func (c Config) mergeEvery() time.Duration {
	if c.MergeEvery <= 0 {
		return DefaultMergeEvery
	}
	return c.MergeEvery
}

func (p *Pipeline) snowpipe() bool { return p.env.Config.LoadMode == LoadSnowpipe }

// appendedTables hold one row per source record, written once and never
// updated: in the snowpipe mode a record taken in offset order is
// appended to them on its partition's channel. A table not listed (a new
// dataset's, by default) is staged and merged, which is always correct.
var appendedTables = map[*table.Schema]bool{
	star.FactLiveStreamingInteractions: true, star.FactVideoInteractions: true, star.FactSocialSales: true,
	star.ConsumerEvents: true, star.ItemViewEvents: true, star.CartEvents: true, star.Pageviews: true, star.UserSessions: true,
}

// AppendedTables lists the tables the snowpipe mode appends to by Kafka
// offset (each fed by Snowpipe Streaming through the table's default pipe).
func AppendedTables() []table.Schema {
	var out []table.Schema
	for _, t := range dataset.Tables() {
		if appendedTables[t] {
			out = append(out, *t)
		}
	}
	return out
}

// The columns a staging table adds to its table's.
const (
	stagingSuffix = "_STAGING"
	colChannel    = "PULSE_CHANNEL" // the processor whose channel appended the row
	colVersion    = "PULSE_VERSION" // the channel's offset token of the append
	colRow        = "PULSE_ROW"     // the row's place in the append: the last of a key wins
	colDeleted    = "PULSE_DELETED" // a tombstone: the key is to be deleted
)

// StagingSchema is the staging table of t: its columns, then
// PULSE_CHANNEL, PULSE_VERSION, PULSE_ROW and PULSE_DELETED.
func StagingSchema(t table.Schema) table.Schema {
	s := table.Schema{Name: t.Name + stagingSuffix, Key: t.Key}
	s.Columns = append(append(s.Columns, t.Columns...),
		table.Column{Name: colChannel, Type: table.String}, table.Column{Name: colVersion, Type: table.Int},
		table.Column{Name: colRow, Type: table.Int}, table.Column{Name: colDeleted, Type: table.Bool})
	return s
}

// StagingSchemas are the staging tables of the snowpipe mode: one per
// table of the model (the appended ones too: their records replayed out of
// offset order are merged by key).
func StagingSchemas() []table.Schema {
	var out []table.Schema
	for _, t := range dataset.Tables() {
		out = append(out, StagingSchema(*t))
	}
	return out
}

// ensureStaging creates the staging tables once per process.
func (p *Pipeline) ensureStaging(ctx context.Context) error {
	if p.stagingReady {
		return nil
	}
	if err := p.env.Warehouse.Migrate(ctx, StagingSchemas()); err != nil {
		return fmt.Errorf("creating the staging tables of the snowpipe load mode: %w", err)
	}
	p.stagingReady = true
	return nil
}

// factPart is what a batch appends on one table's channel of one partition.
type factPart struct {
	t         *table.Schema
	topic     string
	partition int32
	rows      []port.AppendRow
	end       int64
}

// appendFacts appends each partition's fact rows on its channel: rows at or
// below the channel's committed offset (an earlier attempt of these
// records that landed) are skipped by the channel.
func (p *Pipeline) appendFacts(ctx context.Context, parts []*factPart) error {
	for _, fp := range parts {
		name := ChannelName(fp.topic, fp.partition)
		if err := p.env.Appender.Append(ctx, *fp.t, name, fp.rows, fp.end); err != nil {
			return fmt.Errorf("appending %d rows of %s: %w", len(fp.rows), fp.topic, err)
		}
	}
	return nil
}

// ChannelName names the channel of a topic partition (one per table):
// "<topic>-<partition>", as snowpipe.ChannelName.
func ChannelName(topic string, partition int32) string {
	return topic + "-" + itoa(int64(partition))
}

// stageOutputs appends what out holds to the staging tables on the
// processor's channels, each append a new version: the channel's committed
// token + 1 (read from the service: the processor's lease makes this
// process the only writer on it meanwhile). Deletes are tombstones, placed
// before the rows of the same append as mergeOutputs runs them first. A
// retried batch appends its rows again under a newer version: the same
// rows, so the merge ends the same.
func (p *Pipeline) stageOutputs(ctx context.Context, proc string, out *outputs, res *Result) error {
	takeLate(out, res)
	metrics := 0
	for _, t := range dataset.Tables() {
		rows, dels := out.rows[t], out.deletes[t]
		if len(rows) == 0 && len(dels) == 0 {
			continue
		}
		if err := p.ensureStaging(ctx); err != nil {
			return err
		}
		st := StagingSchema(*t)
		tok, err := p.env.Appender.Open(ctx, st, proc)
		if err != nil {
			return fmt.Errorf("staging rows of %s: %w", t.Name, err)
		}
		v := tok + 1
		ar := make([]port.AppendRow, 0, len(rows)+len(dels))
		sort.Strings(dels)
		key := t.Index(t.Key[0])
		for _, id := range dels {
			cells := make(table.Row, len(st.Columns))
			for i := range t.Columns {
				cells[i] = table.Cell{Null: true}
			}
			cells[key] = table.Cell{S: id}
			ar = append(ar, port.AppendRow{Token: v, Cells: stagingCells(cells, len(t.Columns), proc, v, len(ar), true)})
		}
		for _, r := range rows {
			cells := make(table.Row, len(st.Columns))
			copy(cells, r)
			ar = append(ar, port.AppendRow{Token: v, Cells: stagingCells(cells, len(t.Columns), proc, v, len(ar), false)})
		}
		if err := p.env.Appender.Append(ctx, st, proc, ar, v); err != nil {
			return fmt.Errorf("staging %d rows of %s: %w", len(ar), t.Name, err)
		}
		if metricTables[t] {
			metrics += len(rows)
		}
	}
	res.Metrics += metrics
	return nil
}

func stagingCells(cells table.Row, n int, proc string, version int64, row int, deleted bool) table.Row {
	cells[n] = table.Cell{S: proc}
	cells[n+1] = table.Cell{I: version}
	cells[n+2] = table.Cell{I: int64(row)}
	cells[n+3] = table.Cell{B: deleted}
	return cells
}

// takeLate moves out's late events among its PULSE_LATE_EVENTS rows.
func takeLate(out *outputs, res *Result) {
	if len(out.late) == 0 {
		return
	}
	ids := make([]string, 0, len(out.late))
	for id := range out.late {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out.rows[star.LateEvents] = append(out.rows[star.LateEvents], out.late[id])
	}
	res.Late += len(ids)
	out.late = map[string]table.Row{}
}

// quote spells an identifier as both dialects do.
func quote(ident string) string { return sqlmodel.Snowflake.Quote(ident) }

func columnList(t table.Schema) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quote(c.Name)
	}
	return strings.Join(cols, ", ")
}

// latestStaged selects, of the staging rows matching cond, the latest
// version of each key (tombstones included), with t's columns and
// PULSE_DELETED.
func latestStaged(t table.Schema, cond string) string {
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = quote(k)
	}
	where := ""
	if cond != "" {
		where = " WHERE " + cond
	}
	return "SELECT " + columnList(t) + ", " + colDeleted + " FROM (SELECT " + columnList(t) + ", " + colDeleted +
		", ROW_NUMBER() OVER (PARTITION BY " + strings.Join(keys, ", ") + " ORDER BY " + colVersion + " DESC, " + colRow +
		" DESC) AS PULSE_RN FROM " + quote(t.Name+stagingSuffix) + where + ") AS PULSE_LATEST WHERE PULSE_RN = 1"
}

// source is what the stream's own reads select from: the table, or in the
// snowpipe mode the table as the next cadence merge will leave it (its
// rows whose key is not staged, and the latest staged row of each key
// that is not a tombstone), so lookups, the orphan search and the replay
// see what earlier batches wrote as the merge mode would.
func (p *Pipeline) source(name string) string {
	if !p.snowpipe() {
		return name
	}
	var t *table.Schema
	for _, s := range dataset.Tables() {
		if s.Name == name {
			t = s
		}
	}
	if t == nil || len(t.Key) != 1 {
		return name
	}
	k := quote(t.Key[0])
	return "(SELECT " + columnList(*t) + " FROM " + quote(t.Name) + " WHERE " + k + " NOT IN (SELECT " + k + " FROM " +
		quote(t.Name+stagingSuffix) + ") UNION ALL SELECT " + columnList(*t) + " FROM (" + latestStaged(*t, "") +
		") AS PULSE_CUR WHERE NOT " + colDeleted + ") AS " + quote(t.Name)
}

// MergeStaged is the snowpipe mode's cadence merge: for every staging
// table, in one warehouse transaction, the latest version of each key
// among the rows staged so far replaces the table's row (a tombstone
// deletes it), and those staging rows are deleted. "So far" is, per
// channel, the highest version seen by a first query: rows appended
// meanwhile have higher versions (a channel's tokens only grow) and wait
// for the next merge. A crash before the commit leaves everything staged;
// after it, the merged rows are gone from staging: running it again, or
// twice at once, merges each row once, and never an older version of a
// key over a newer one. It makes no warehouse call when nothing is staged
// but the first query. In the merge mode it does nothing.
func (p *Pipeline) MergeStaged(ctx context.Context) error {
	if !p.snowpipe() {
		return nil
	}
	if err := p.ensureStaging(ctx); err != nil {
		return err
	}
	tables := dataset.Tables()
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = "SELECT '" + t.Name + "' AS TABLE_NAME, " + colChannel + ", MAX(" + colVersion + ") AS V FROM " +
			quote(t.Name+stagingSuffix) + " GROUP BY " + colChannel
	}
	_, rows, err := p.env.Warehouse.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return fmt.Errorf("cadence merge: reading the staged versions: %w", err)
	}
	conds := map[string][]string{}
	for _, r := range rows {
		name, _ := r[0].(string)
		ch, _ := r[1].(string)
		v, ok := r[2].(int64)
		if !ok {
			return fmt.Errorf("cadence merge: staged version of %s/%s is %T", name, ch, r[2])
		}
		conds[name] = append(conds[name], "("+colChannel+" = '"+strings.ReplaceAll(ch, "'", "''")+"' AND "+colVersion+" <= "+itoa(v)+")")
	}
	if len(conds) == 0 {
		return nil
	}
	ld, err := p.env.Warehouse.BeginLoad(ctx)
	if err != nil {
		return fmt.Errorf("cadence merge: %w", err)
	}
	defer ld.Close()
	n := 0
	for _, t := range tables {
		c := conds[t.Name]
		if len(c) == 0 {
			continue
		}
		sort.Strings(c)
		for _, q := range mergeStatements(*t, strings.Join(c, " OR ")) {
			ld.Exec(q)
		}
		n++
	}
	if _, err := ld.Commit(ctx); err != nil {
		return fmt.Errorf("cadence merge of %d staging tables: %w", n, err)
	}
	p.log().Debug("stream: cadence merge", "tables", n)
	return nil
}

// MergeStatements is how many statements the cadence merge runs per
// staging table that holds rows (besides one query, and the transaction's
// BEGIN and COMMIT, for all of them).
const MergeStatements = 3

// mergeStatements moves t's staging rows matching cond into t: delete the
// table's rows of those keys, insert the latest version of each key that
// is not a tombstone, delete the staging rows.
func mergeStatements(t table.Schema, cond string) []string {
	k := quote(t.Key[0])
	match := k + " IN (SELECT " + k + " FROM " + quote(t.Name+stagingSuffix) + " WHERE " + cond + ")"
	if len(t.Key) > 1 {
		var eq []string
		for _, key := range t.Key {
			eq = append(eq, "S."+quote(key)+" = "+quote(t.Name)+"."+quote(key))
		}
		match = "EXISTS (SELECT 1 FROM " + quote(t.Name+stagingSuffix) + " AS S WHERE (" + cond + ") AND " + strings.Join(eq, " AND ") + ")"
	}
	return []string{
		"DELETE FROM " + quote(t.Name) + " WHERE " + match,
		"INSERT INTO " + quote(t.Name) + " (" + columnList(t) + ") SELECT " + columnList(t) + " FROM (" +
			latestStaged(t, cond) + ") AS PULSE_NEW WHERE NOT " + colDeleted,
		"DELETE FROM " + quote(t.Name+stagingSuffix) + " WHERE " + cond,
	}
}

// cadence is the stored time of the last cadence merge.
type cadence struct {
	Last int64 `json:"last"` // Unix µs
}

// mergeIfDue runs MergeStaged when Config.MergeEvery has passed since the
// last one of any process (the time is kept in the window.Store). Two
// processes that both find it due both merge, which is harmless.
func (p *Pipeline) mergeIfDue(ctx context.Context, now time.Time) error {
	name := p.env.Config.StatePrefix + "cadence/merge"
	data, version, err := p.env.State.Load(ctx, name)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	var c cadence
	if len(data) > 0 {
		if err := json.Unmarshal(data, &c); err != nil {
			return fmt.Errorf("decoding %s: %w", name, err)
		}
	}
	if c.Last != 0 && now.Sub(fromMicros(c.Last)) < p.env.Config.mergeEvery() {
		return nil
	}
	if err := p.MergeStaged(ctx); err != nil {
		return err
	}
	b, _ := json.Marshal(cadence{Last: now.UnixMicro()})
	if err := p.env.State.Save(ctx, name, b, version); err != nil && !errors.Is(err, window.ErrConflict) {
		return fmt.Errorf("saving %s: %w", name, err)
	}
	return nil
}

// outFor is where the rows of processor proc's datasets go: the batch's
// one outputs in the merge mode, the processor's own in the snowpipe mode
// (each processor stages on its own channels).
func (b *batch) outFor(proc string) *outputs {
	if b.outs == nil {
		return b.out
	}
	o := b.outs[proc]
	if o == nil {
		o = newOutputs(b.now)
		b.outs[proc] = o
	}
	return o
}

// appendable tells whether r's row of t is appended on its partition's
// channel: the snowpipe mode, a batch of the mapping (not a failed batch
// brought back), an event dataset's one-row-per-record table, and a
// record above its partition's high-water mark. A record below it (in a
// gap, or before the first offset the ledger saw) is older than what the
// channel committed, which would skip it: its row is staged and merged.
func (b *batch) appendable(r *rec, t *table.Schema) bool {
	if b.outs == nil || b.replay || !appendedTables[t] || r.ds.spec.Mode != dataset.Events {
		return false
	}
	hw, ok := b.highs[ledgerKey(r.msg.Topic, r.msg.Partition)]
	return !ok || r.msg.Offset > hw
}

// appendFact adds r's row of t to its partition's channel, whose end
// token is the batch's last offset on the partition.
func (b *batch) appendFact(r *rec, t *table.Schema, row table.Row) {
	var fp *factPart
	for _, f := range b.facts {
		if f.t == t && f.topic == r.msg.Topic && f.partition == r.msg.Partition {
			fp = f
		}
	}
	if fp == nil {
		fp = &factPart{t: t, topic: r.msg.Topic, partition: r.msg.Partition}
		for _, o := range b.recs {
			if o.msg.Topic == fp.topic && o.msg.Partition == fp.partition {
				fp.end = max(fp.end, o.msg.Offset)
			}
		}
		b.facts = append(b.facts, fp)
	}
	fp.rows = append(fp.rows, port.AppendRow{Token: r.msg.Offset, Cells: row})
}

// load writes what the batch produced: one MERGE transaction in the merge
// mode; in the snowpipe mode the facts on their partitions' channels, then
// each processor's rows to staging.
func (b *batch) load(ctx context.Context) error {
	if b.outs == nil {
		return b.p.mergeOutputs(ctx, b.out, b.res)
	}
	if err := b.p.appendFacts(ctx, b.facts); err != nil {
		return err
	}
	return b.p.stageAll(ctx, b.outs, b.res)
}

// stageAll stages each processor's outputs, in processor order.
func (p *Pipeline) stageAll(ctx context.Context, outs map[string]*outputs, res *Result) error {
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := p.stageOutputs(ctx, n, outs[n], res); err != nil {
			return err
		}
	}
	return nil
}
