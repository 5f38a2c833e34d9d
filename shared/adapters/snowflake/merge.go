package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-analytics/pulse/shared/adapters/sqldb"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Merge upserts rows into t by its key and returns how many keys were
// new (Snowflake's "number of rows inserted"). Rows repeating a key are
// reduced to the last one. On one session it runs, in order:
//
//	CREATE OR REPLACE TEMPORARY TABLE PULSE_STAGE_<T> (...)
//	PUT 'file://<batch>.parquet' @<stage>/<T>/ AUTO_COMPRESS=FALSE OVERWRITE=TRUE   (one per file)
//	COPY INTO PULSE_STAGE_<T> FROM @<stage>/<T>/ FILES=(...) FILE_FORMAT=(TYPE=PARQUET)
//	     MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE PURGE=TRUE
//	MERGE INTO <T> ... (sqlmodel)
//	DROP TABLE IF EXISTS PULSE_STAGE_<T>
//
// The MERGE is one atomic statement, so a failure leaves t unchanged.
func (w *Warehouse) Merge(ctx context.Context, t table.Schema, rows []table.Row) (int, error) {
	if err := sqlmodel.CheckSchema(t); err != nil {
		return 0, fmt.Errorf("merging: %w", err)
	}
	rows, err := sqlmodel.LastByKey(t, rows)
	if err != nil {
		return 0, fmt.Errorf("merging: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	conn, err := w.db.Conn(ctx) // the temporary table lives in this session
	if err != nil {
		return 0, fmt.Errorf("merging into %s: getting a connection: %w", t.Name, err)
	}
	defer conn.Close()
	stage := stageTable(t.Name)
	if _, err := conn.ExecContext(ctx, dialect.CreateTempTable(stage, t)); err != nil {
		return 0, fmt.Errorf("merging into %s: creating stage table: %w", t.Name, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), dialect.DropTable(stage)); err != nil {
			_ = err // the session's temporary table goes when the session ends
		}
	}()
	location := w.stage + "/" + stageFolder(t.Name) + "/"
	var files []string
	for start := 0; start < len(rows); start += w.fileRows {
		name, err := w.putBatch(ctx, conn, location, t, rows[start:min(start+w.fileRows, len(rows))])
		if err != nil {
			return 0, fmt.Errorf("merging into %s: %w", t.Name, err)
		}
		files = append(files, name)
	}
	if _, err := conn.ExecContext(ctx, copyInto(stage, location, files)); err != nil {
		return 0, fmt.Errorf("merging into %s: copying %d files into the stage table: %w", t.Name, len(files), err)
	}
	inserted, err := merge(ctx, conn, t, stage)
	if err != nil {
		return 0, fmt.Errorf("merging into %s: %w", t.Name, err)
	}
	return inserted, nil
}

// putBatch writes rows to a local Parquet file, PUTs it at location and
// returns its name there.
func (w *Warehouse) putBatch(ctx context.Context, conn *sql.Conn, location string, t table.Schema, rows []table.Row) (string, error) {
	name := stageFolder(t.Name) + "-" + w.newID() + ".parquet"
	path := filepath.Join(w.dir(), name)
	if err := writeParquet(path, t, rows); err != nil {
		return "", err
	}
	defer os.Remove(path)
	if _, err := conn.ExecContext(ctx, put(path, location)); err != nil {
		return "", fmt.Errorf("uploading %s to %s: %w", name, location, err)
	}
	return name, nil
}

func writeParquet(path string, t table.Schema, rows []table.Row) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating batch file: %w", err)
	}
	pw, err := table.NewParquetWriter(f, t)
	if err == nil {
		err = pw.Write(rows)
	}
	if err == nil {
		err = pw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing batch file %s: %w", path, err)
	}
	return nil
}

// merge runs the MERGE and reads Snowflake's "number of rows inserted".
func merge(ctx context.Context, conn *sql.Conn, t table.Schema, stage string) (int, error) {
	cols, rows, err := queryMerge(ctx, conn, dialect.Merge(t, dialect.QuoteName(stage)))
	if err != nil {
		return 0, err
	}
	return rowsInserted(cols, rows)
}

func queryMerge(ctx context.Context, conn *sql.Conn, q string) ([]string, [][]any, error) {
	return sqldb.Query(ctx, conn, convert, q)
}

// rowsInserted reads a MERGE result's "number of rows inserted".
func rowsInserted(cols []string, rows [][]any) (int, error) {
	for i, c := range cols {
		if strings.EqualFold(c, "number of rows inserted") && len(rows) == 1 {
			if n, ok := rows[0][i].(int64); ok {
				return int(n), nil
			}
		}
	}
	return 0, fmt.Errorf("merge result has no \"number of rows inserted\" (columns %v)", cols)
}

// put is the PUT of a local file to a stage location. Paths are quoted
// (with \ and ' escaped) so they may hold spaces.
func put(path, location string) string {
	p := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(filepath.ToSlash(path))
	return "PUT 'file://" + p + "' " + location + " AUTO_COMPRESS=FALSE OVERWRITE=TRUE"
}

// copyInto loads the named Parquet files from location into the stage
// table by column name, removing them from the stage once loaded.
func copyInto(stage, location string, files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + f + "'"
	}
	return "COPY INTO " + dialect.QuoteName(stage) + " FROM " + location +
		" FILES=(" + strings.Join(quoted, ", ") + ") FILE_FORMAT=(TYPE=PARQUET)" +
		" MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE PURGE=TRUE"
}

// stageFolder is name with anything but letters, digits and _ replaced
// by _, safe in file names and stage paths.
func stageFolder(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

// stageTable is the session temporary table a load of name stages into.
func stageTable(name string) string { return "PULSE_STAGE_" + stageFolder(name) }
