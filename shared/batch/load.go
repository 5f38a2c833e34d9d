package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// loadChunk is how many rows one MERGE carries.
const loadChunk = 20_000

// Schemas is every table Pulse loads (dataset.Schemas); Load migrates them first.
var Schemas = dataset.Schemas

// Load merges a file's curated Parquet into the warehouse, every table and
// the file's manifest row in one warehouse transaction (all of the file
// lands, or none of it), then commits the file's dedupe claims: only now
// do its records shadow later deliveries of the same records. MERGE on
// each table's key makes a repeated load change nothing.
func Load(ctx context.Context, env *Env, m *Manifest) (*Manifest, error) {
	if env.Warehouse == nil {
		return nil, errors.New("load: no warehouse configured")
	}
	txn := m.txn()
	// A file whose claims were released (quarantined, or taken over after
	// its deadline) must be cleaned again: its staged records may now
	// belong to another delivery.
	switch st, err := env.Dedupe.State(ctx, txn); {
	case err != nil:
		return nil, fmt.Errorf("loading %s: %w", m.Source.Key, err)
	case st == port.TxnAborted:
		return nil, fmt.Errorf("loading %s: %w: its claims were released; clean the file again", m.Source.Key, port.ErrTxnAborted)
	}
	// Renew the claims' deadline for the time the load takes.
	if err := env.Dedupe.Begin(ctx, txn, env.claimDeadline()); err != nil {
		return nil, fmt.Errorf("loading %s: %w", m.Source.Key, err)
	}
	if err := env.Warehouse.Migrate(ctx, Schemas()); err != nil {
		return nil, fmt.Errorf("migrating warehouse: %w", err)
	}
	spec, err := dataset.Lookup(m.Dataset)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", m.Source.Key, err)
	}
	ld, err := env.Warehouse.BeginLoad(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", m.Source.Key, err)
	}
	defer ld.Close()
	for _, out := range m.Curated {
		t := specTable(spec, out.Table)
		if t == nil {
			return nil, fmt.Errorf("load: curated output %s names table %s, neither dataset %s nor the pipeline writes", out.Key, out.Table, spec.Name)
		}
		if err := stageFile(ctx, env, ld, *t, out.Key); err != nil {
			return nil, err
		}
	}
	m.Status = "loaded"
	m.FinishedAt = env.now().UnixMicro()
	if err := ld.Stage(ctx, *star.Manifests, []table.Row{manifestRow(m)}); err != nil {
		return nil, fmt.Errorf("recording manifest %s: %w", m.FileID, err)
	}
	if err := env.failpoint(FailLoadStaged); err != nil {
		return nil, err
	}
	inserted, err := ld.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", m.Source.Key, err)
	}
	if err := env.failpoint(FailLoadCommitted); err != nil {
		return nil, err
	}
	m.Inserted = map[string]int{}
	for _, out := range m.Curated {
		m.Inserted[out.Table] = inserted[out.Table]
	}
	if err := env.Dedupe.Commit(ctx, txn); err != nil {
		return nil, fmt.Errorf("loading %s: its rows landed, committing its dedupe claims: %w", m.Source.Key, err)
	}
	if err := env.saveManifest(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// txn is the dedupe transaction of a manifest's records: its file version,
// or the replay batch's own.
func (m *Manifest) txn() string {
	if m.Txn != "" {
		return m.Txn
	}
	return m.Origin
}

// specTable is the table named name among those spec maps to and the
// pipeline's own (the rejects), or nil.
func specTable(spec *dataset.Spec, name string) *table.Schema {
	for _, tm := range spec.Star {
		if tm.Table.Name == name {
			return tm.Table
		}
	}
	for _, t := range star.Pipeline() {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// stageFile stages a curated Parquet file's rows into ld, loadChunk rows at a time.
func stageFile(ctx context.Context, env *Env, ld port.Loader, t table.Schema, key string) error {
	f, size, err := env.spool(ctx, env.Buckets.Curated, key)
	if err != nil {
		return err
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	rd, err := table.OpenParquetRows(f, size, t)
	if err != nil {
		return fmt.Errorf("opening curated parquet %s: %w", key, err)
	}
	buf := make([]table.Row, loadChunk)
	for i := range buf {
		buf[i] = make(table.Row, len(t.Columns))
	}
	for {
		n, rerr := rd.Read(buf)
		if n > 0 {
			if err := ld.Stage(ctx, t, buf[:n]); err != nil {
				return fmt.Errorf("staging %s into %s: %w", key, t.Name, err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("reading curated parquet %s: %w", key, rerr)
		}
	}
}

func manifestRow(m *Manifest) table.Row {
	return table.Row{
		{S: m.FileID}, {S: m.Dataset}, {S: m.Source.Key}, {I: m.Counts.Received}, {I: m.Counts.Loaded},
		{I: m.Counts.Rejected}, {I: m.Counts.Duplicate}, {I: m.Counts.Late}, {S: m.Status}, {I: m.StartedAt}, {I: m.FinishedAt},
	}
}

func recordManifest(ctx context.Context, env *Env, m *Manifest) error {
	if _, err := env.Warehouse.Merge(ctx, *star.Manifests, []table.Row{manifestRow(m)}); err != nil {
		return fmt.Errorf("recording manifest %s: %w", m.FileID, err)
	}
	return nil
}

// TestResult is one data test over one table.
type TestResult struct {
	Table    string `json:"table"`
	Test     string `json:"test"`
	Failures int64  `json:"failures"`
}

// DataTests checks what Load left in the warehouse for one file, dbt-style:
// the file's fact rows are all there (count >= loaded), fact keys are not
// null and unique, and every dimension key a fact row points to exists.
// Results go to PULSE_DATA_TESTS; a failure returns ErrDataTests. Then it
// runs the shared/datatest suite tests of the tables the file wrote
// (recorded there too, and logged when failing, but never failing the file).
func DataTests(ctx context.Context, env *Env, m *Manifest) ([]TestResult, error) {
	spec, err := dataset.Lookup(m.Dataset)
	if err != nil {
		return nil, err
	}
	var results []TestResult
	dims := map[string]*table.Schema{}
	for _, tm := range spec.Star {
		if !isFact(tm.Table) {
			dims[tm.Table.Key[0]] = tm.Table
		}
	}
	for _, tm := range spec.Star {
		t := tm.Table
		if !isFact(t) {
			continue
		}
		id := t.Key[0]
		checks := []struct{ name, sql string }{
			{"not_null(" + id + ")", fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s IS NULL", t.Name, id)},
			{"unique(" + id + ")", fmt.Sprintf("SELECT COUNT(*) - COUNT(DISTINCT %s) FROM %s", id, t.Name)},
		}
		for _, c := range t.Columns {
			if d, ok := dims[c.Name]; ok && c.Name != id {
				checks = append(checks, struct{ name, sql string }{
					"relationships(" + c.Name + " -> " + d.Name + ")",
					fmt.Sprintf("SELECT COUNT(*) FROM %s f LEFT JOIN %s d ON f.%s = d.%s WHERE d.%s IS NULL AND f.SOURCE = '%s'",
						t.Name, d.Name, c.Name, c.Name, c.Name, sqlString(m.Source.Key)),
				})
			}
		}
		for _, c := range checks {
			n, err := datatest.Count(ctx, env.Warehouse, c.sql)
			if err != nil {
				return nil, fmt.Errorf("data test %s on %s: %w", c.name, t.Name, err)
			}
			results = append(results, TestResult{Table: t.Name, Test: c.name, Failures: n})
		}
		n, err := datatest.Count(ctx, env.Warehouse, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE SOURCE = '%s'", t.Name, sqlString(m.Source.Key)))
		if err != nil {
			return nil, fmt.Errorf("data test row count on %s: %w", t.Name, err)
		}
		missing := m.Counts.Loaded - n
		if missing < 0 {
			missing = 0
		}
		results = append(results, TestResult{Table: t.Name, Test: "rows_loaded(>= manifest loaded)", Failures: missing})
	}
	failed := 0
	var rows []table.Row
	at := env.now().UnixMicro()
	for _, r := range results {
		status := "pass"
		if r.Failures > 0 {
			status = "fail"
			failed++
		}
		rows = append(rows, table.Row{{S: star.MD5Hex([]byte(m.FileID + "|" + r.Table + "|" + r.Test))}, {S: m.FileID}, {S: m.Dataset},
			{S: r.Table}, {S: r.Test}, {I: r.Failures}, {S: status}, {I: at}})
	}
	if len(rows) > 0 {
		if _, err := env.Warehouse.Merge(ctx, *star.DataTests, rows); err != nil {
			return nil, fmt.Errorf("recording data tests for %s: %w", m.FileID, err)
		}
	}
	// The dbt-style suite tests (shared/datatest) of the tables this file
	// wrote and of those pointing at them: recorded in PULSE_DATA_TESTS,
	// logged when they fail, never failing the file (they judge whole
	// tables, which other files and streams fill too).
	var tables []string
	for _, out := range m.Curated {
		tables = append(tables, out.Table)
	}
	suite, err := datatest.Run(ctx, env.Warehouse, datatest.ForTables(tables...), env.now())
	if err != nil {
		return results, fmt.Errorf("running the data test suite for %s: %w", m.Source.Key, err)
	}
	for _, r := range datatest.Failed(suite) {
		env.log().Warn("data test failed", "table", r.Test.Table, "test", r.Test.Name(), "failures", r.Failures, "after", m.Source.Key)
	}
	if failed > 0 {
		return results, fmt.Errorf("%w: %d of %d for %s", port.ErrDataTests, failed, len(results), m.Source.Key)
	}
	return results, nil
}

func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// RunBatch runs Clean, Model, Load and DataTests for one file in process:
// what the batch workflow does on AWS, for the local stack and tests.
func RunBatch(ctx context.Context, env *Env, drop port.FileDrop) (*Manifest, error) {
	m, err := Clean(ctx, env, drop)
	if err != nil {
		return nil, err
	}
	if m, err = Model(ctx, env, m); err != nil {
		return nil, err
	}
	if m, err = Load(ctx, env, m); err != nil {
		return nil, err
	}
	if _, err := DataTests(ctx, env, m); err != nil {
		return m, err
	}
	return m, nil
}
