package snowflakelocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// session is one login: a DuckDB connection of its own (temporary tables and
// transactions are per session, as in Snowflake).
type session struct {
	srv  *Server
	n    int
	user string

	mu      sync.Mutex // one statement at a time
	conn    *sql.Conn
	inTx    bool
	holding bool            // holds the server's write lock
	temp    map[string]bool // temporary tables, by upper-case name
	closed  bool
}

func (ss *session) close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.closed = true
	if ss.inTx {
		_, _ = ss.conn.ExecContext(context.Background(), "ROLLBACK")
		ss.inTx = false
	}
	ss.release()
	ss.conn.Close()
}

// lock takes the write lock (if the session does not hold it) for at most
// the lock timeout.
func (ss *session) lock(ctx context.Context) error {
	if ss.holding {
		return nil
	}
	t := time.NewTimer(ss.srv.opts.LockTimeout)
	defer t.Stop()
	select {
	case <-ss.srv.write:
		ss.holding = true
		return nil
	case <-t.C:
		return fmt.Errorf("statement waited more than %s for a lock held by another session's transaction (lock timeout)", ss.srv.opts.LockTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ss *session) release() {
	if ss.holding {
		ss.holding = false
		ss.srv.write <- struct{}{}
	}
}

// Statement type IDs (gosnowflake reads DML row counts from the first row
// of a DML result).
const (
	typeSelect = 0x1000
	typeInsert = 0x3100
	typeUpdate = 0x3200
	typeDelete = 0x3300
	typeMerge  = 0x3400
	typeDDL    = 0x6000
)

type column struct {
	name      string
	typ       string
	precision int64
	scale     int64
}

type result struct {
	cols   []column
	rows   [][]*string
	typ    int64
	upload map[string]any // a PUT's answer
}

func (r *result) rowtype() []map[string]any {
	out := make([]map[string]any, len(r.cols))
	for i, c := range r.cols {
		out[i] = map[string]any{"name": c.name, "type": c.typ, "scale": c.scale, "precision": c.precision, "nullable": true, "length": 0, "byteLength": 0}
	}
	return out
}

func counts(typ int64, names []string, values ...int64) *result {
	r := &result{typ: typ, rows: [][]*string{make([]*string, len(values))}}
	for i, n := range names {
		r.cols = append(r.cols, column{name: n, typ: "fixed", precision: 38})
		v := strconv.FormatInt(values[i], 10)
		r.rows[0][i] = &v
	}
	return r
}

func status(msg string) *result {
	return &result{typ: typeDDL, cols: []column{{name: "status", typ: "text"}}, rows: [][]*string{{&msg}}}
}

// words returns the first n bare words of the statement, upper case.
func words(ts []token, n int) []string {
	var out []string
	for _, t := range ts {
		if len(out) == n {
			break
		}
		switch t.kind {
		case tkSpace:
		case tkWord:
			out = append(out, strings.ToUpper(t.text))
		default:
			return out
		}
	}
	return out
}

// nameAfter returns the object name following the words (upper-case when
// unquoted, parts joined with "."), e.g. nameAfter(ts, "TABLE").
func nameAfter(ts []token, after ...string) string {
	i := 0
	for _, w := range after {
		for i < len(ts) && !ts[i].is(w) {
			i++
		}
		i++
	}
	var parts []string
	for i = next(ts, i); i < len(ts); i++ {
		t := ts[i]
		switch {
		case t.is("IF") || t.is("NOT") || t.is("EXISTS"):
			if len(parts) == 0 {
				continue
			}
			return strings.Join(parts, ".")
		case t.kind == tkWord:
			parts = append(parts, strings.ToUpper(t.text))
		case t.kind == tkQuoted:
			parts = append(parts, strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`))
		case t.punct("."):
		case t.kind == tkSpace && len(parts) == 0:
		default:
			return strings.Join(parts, ".")
		}
	}
	return strings.Join(parts, ".")
}

func lastPart(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// exec runs one statement on the session.
func (ss *session) exec(ctx context.Context, sqlText string, args []any) (*result, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil, errors.New("session is closed")
	}
	ts, err := tokenize(sqlText)
	if err != nil {
		return nil, fmt.Errorf("reading statement: %w", err)
	}
	w := words(ts, 4)
	if len(w) == 0 {
		return nil, fmt.Errorf("statement %q has no keyword", clip(sqlText))
	}
	switch w[0] {
	case "PUT":
		return ss.put(ts)
	case "COPY":
		return ss.copyInto(ctx, sqlText, ts)
	case "BEGIN", "START":
		if ss.inTx {
			return status("Statement executed successfully."), nil
		}
		if err := ss.lock(ctx); err != nil {
			return nil, err
		}
		if _, err := ss.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			ss.release()
			return nil, err
		}
		ss.inTx = true
		return status("Statement executed successfully."), nil
	case "COMMIT", "ROLLBACK":
		if !ss.inTx {
			return status("Statement executed successfully."), nil
		}
		_, err := ss.conn.ExecContext(ctx, w[0])
		ss.inTx = false
		ss.release()
		if err != nil {
			return nil, err
		}
		return status("Statement executed successfully."), nil
	case "USE":
		return status("Statement executed successfully."), nil
	case "SELECT", "WITH", "SHOW", "DESCRIBE", "DESC":
		return ss.query(ctx, sqlText, args)
	}
	// Session settings and warehouse objects have no DuckDB counterpart.
	if len(w) >= 2 && (w[0] == "ALTER" && (w[1] == "SESSION" || w[1] == "WAREHOUSE") ||
		w[0] == "CREATE" && strings.Contains(strings.Join(w, " "), "WAREHOUSE")) {
		return status("Statement executed successfully."), nil
	}
	temp := ss.touchesTemp(ts, w)
	if !temp {
		if err := ss.lock(ctx); err != nil {
			return nil, err
		}
		if !ss.inTx {
			defer ss.release()
		}
	}
	q, err := Translate(sqlText)
	if err != nil {
		return nil, err
	}
	switch w[0] {
	case "MERGE":
		return ss.merge(ctx, q, ts, args)
	case "INSERT", "UPDATE", "DELETE":
		res, err := ss.conn.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		switch w[0] {
		case "INSERT":
			return counts(typeInsert, []string{"number of rows inserted"}, n), nil
		case "UPDATE":
			return counts(typeUpdate, []string{"number of rows updated", "number of multi-joined rows updated"}, n, 0), nil
		}
		return counts(typeDelete, []string{"number of rows deleted"}, n), nil
	}
	if _, err := ss.conn.ExecContext(ctx, q, args...); err != nil {
		return nil, err
	}
	if len(w) >= 2 && w[0] == "CREATE" && strings.Contains(strings.Join(w, " "), "TEMPORARY") {
		ss.temp[lastPart(nameAfter(ts, "TABLE"))] = true
	}
	if w[0] == "DROP" && temp {
		delete(ss.temp, lastPart(nameAfter(ts, "TABLE")))
	}
	return status("Statement executed successfully."), nil
}

// touchesTemp says whether a write statement changes only a temporary table
// of this session (no write lock needed: nobody else sees it).
func (ss *session) touchesTemp(ts []token, w []string) bool {
	switch {
	case w[0] == "CREATE" && strings.Contains(strings.Join(w, " "), "TEMPORARY"):
		return true
	case w[0] == "DROP" && len(w) > 1 && w[1] == "TABLE":
		return ss.temp[lastPart(nameAfter(ts, "TABLE"))]
	case w[0] == "INSERT":
		return ss.temp[lastPart(nameAfter(ts, "INTO"))]
	}
	return false
}

func (ss *session) merge(ctx context.Context, q string, ts []token, args []any) (*result, error) {
	rows, err := ss.conn.QueryContext(ctx, q+" RETURNING merge_action", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ins, upd, del int64
	for rows.Next() {
		var action string
		if err := rows.Scan(&action); err != nil {
			return nil, err
		}
		switch action {
		case "INSERT":
			ins++
		case "UPDATE":
			upd++
		case "DELETE":
			del++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.is("DELETE") {
			return counts(typeMerge, []string{"number of rows inserted", "number of rows updated", "number of rows deleted"}, ins, upd, del), nil
		}
	}
	return counts(typeMerge, []string{"number of rows inserted", "number of rows updated"}, ins, upd), nil
}

// stageDir is the folder of a stage location such as @~/pulse/T/ (the
// user's stage) or @MY_STAGE/path/.
func (ss *session) stageDir(location string) (string, error) {
	loc := strings.TrimPrefix(location, "@")
	if loc == location {
		return "", fmt.Errorf("stage location %q does not start with @", location)
	}
	var parts []string
	for i, p := range strings.Split(loc, "/") {
		switch {
		case p == "" || p == ".":
			continue
		case p == "..":
			return "", fmt.Errorf("stage location %q leaves the stage", location)
		case i == 0 && p == "~":
			p = "user~" + ss.user
		case i == 0 && strings.HasPrefix(p, "%"):
			p = "table~" + strings.ToUpper(p[1:])
		case i == 0:
			p = "stage~" + strings.ToUpper(strings.Trim(p, `"`))
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("stage location %q names no stage", location)
	}
	return filepath.Join(append([]string{ss.srv.dir, "stages"}, parts...)...), nil
}

// put answers PUT 'file://<path>' @<location> with a LOCAL_FS stage: the
// driver copies the file into the stage folder itself.
func (ss *session) put(ts []token) (*result, error) {
	var src, location string
	for i, t := range ts {
		if t.kind == tkString && src == "" {
			src = strings.TrimPrefix(t.text, "file://")
			j := next(ts, i+1)
			var b strings.Builder
			for ; j < len(ts) && ts[j].kind != tkSpace; j++ {
				b.WriteString(ts[j].text)
			}
			location = b.String()
			break
		}
	}
	if src == "" || location == "" {
		return nil, errors.New("PUT needs 'file://<path>' and a stage location")
	}
	dir, err := ss.stageDir(location)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating stage folder: %w", err)
	}
	return &result{upload: map[string]any{
		"command": "UPLOAD", "src_locations": []string{src}, "autoCompress": false, "overwrite": true,
		"sourceCompression": "auto_detect", "parallel": 1, "queryId": fmt.Sprintf("local-put-%d", ss.n),
		"stageInfo": map[string]any{"locationType": "LOCAL_FS", "location": dir + string(filepath.Separator)},
	}}, nil
}

var (
	copyRe    = regexp.MustCompile(`(?is)^\s*COPY\s+INTO\s+(\S+)\s+FROM\s+(@\S+)(.*)$`)
	filesRe   = regexp.MustCompile(`(?is)\bFILES\s*=\s*\(([^)]*)\)`)
	formatRe  = regexp.MustCompile(`(?is)\bFILE_FORMAT\s*=\s*\(\s*TYPE\s*=\s*'?(\w+)'?\s*\)`)
	matchRe   = regexp.MustCompile(`(?is)\bMATCH_BY_COLUMN_NAME\s*=\s*'?(\w+)'?`)
	purgeRe   = regexp.MustCompile(`(?is)\bPURGE\s*=\s*TRUE\b`)
	fileRe    = regexp.MustCompile(`'([^']*)'`)
	copyNames = []string{"file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen"}
)

// copyInto runs COPY INTO <table> FROM @<stage>/ FILES=(...)
// FILE_FORMAT=(TYPE=PARQUET) MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE
// [PURGE=TRUE]: each file's columns are inserted into the table's columns of
// the same name, one row of the result per file.
func (ss *session) copyInto(ctx context.Context, sqlText string, ts []token) (*result, error) {
	m := copyRe.FindStringSubmatch(sqlText)
	if m == nil {
		return nil, fmt.Errorf("COPY is supported here only as COPY INTO <table> FROM @<stage>: %q", clip(sqlText))
	}
	opts := m[3]
	if f := formatRe.FindStringSubmatch(opts); f == nil || !strings.EqualFold(f[1], "PARQUET") {
		return nil, fmt.Errorf("COPY INTO: only FILE_FORMAT=(TYPE=PARQUET) is supported here: %q", clip(sqlText))
	}
	if mm := matchRe.FindStringSubmatch(opts); mm == nil || strings.EqualFold(mm[1], "NONE") {
		return nil, fmt.Errorf("COPY INTO: only MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE or CASE_SENSITIVE is supported here: %q", clip(sqlText))
	}
	dir, err := ss.stageDir(m[2])
	if err != nil {
		return nil, err
	}
	var files []string
	if f := filesRe.FindStringSubmatch(opts); f != nil {
		for _, q := range fileRe.FindAllStringSubmatch(f[1], -1) {
			files = append(files, q[1])
		}
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("COPY INTO: listing stage %s: %w", m[2], err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, e.Name())
			}
		}
	}
	target := m[1]
	name := lastPart(nameAfter(ts, "INTO"))
	if !ss.temp[name] {
		if err := ss.lock(ctx); err != nil {
			return nil, err
		}
		if !ss.inTx {
			defer ss.release()
		}
	}
	res := &result{typ: typeDDL}
	for _, c := range copyNames {
		typ := "fixed"
		if c == "file" || c == "status" {
			typ = "text"
		}
		res.cols = append(res.cols, column{name: c, typ: typ, precision: 38})
	}
	var loaded []string
	for _, f := range files {
		if strings.ContainsAny(f, `/\`) {
			return nil, fmt.Errorf("COPY INTO: file %q is not a name in the stage folder", f)
		}
		path := filepath.Join(dir, f)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("COPY INTO %s: remote file '%s' was not found in stage %s", target, f, m[2])
		}
		r, err := ss.conn.ExecContext(ctx, "INSERT INTO "+target+" BY NAME SELECT * FROM read_parquet("+duckString(path)+")")
		if err != nil {
			return nil, fmt.Errorf("COPY INTO %s from %s: %w", target, f, err)
		}
		n, _ := r.RowsAffected()
		vals := []string{strings.TrimSuffix(m[2], "/") + "/" + f, "LOADED", strconv.FormatInt(n, 10), strconv.FormatInt(n, 10), "1", "0"}
		row := make([]*string, len(vals))
		for i := range vals {
			row[i] = &vals[i]
		}
		res.rows = append(res.rows, row)
		loaded = append(loaded, path)
	}
	if purgeRe.MatchString(opts) {
		for _, p := range loaded {
			os.Remove(p)
		}
	}
	return res, nil
}

// query runs a SELECT and renders its rows as Snowflake's JSON result.
func (ss *session) query(ctx context.Context, sqlText string, args []any) (*result, error) {
	q, err := Translate(sqlText)
	if err != nil {
		return nil, err
	}
	rows, err := ss.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &result{typ: typeSelect, rows: [][]*string{}}
	for _, t := range types {
		res.cols = append(res.cols, snowflakeColumn(t))
	}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(vals))
		for i, v := range vals {
			row[i] = formatValue(res.cols[i], v)
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

var decimalRe = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

// snowflakeColumn is the Snowflake column type of a DuckDB result column.
func snowflakeColumn(t *sql.ColumnType) column {
	c := column{name: strings.ToUpper(t.Name()), precision: 38}
	dt := strings.ToUpper(t.DatabaseTypeName())
	switch {
	case dt == "BIGINT" || dt == "INTEGER" || dt == "SMALLINT" || dt == "TINYINT" || dt == "HUGEINT" ||
		dt == "UBIGINT" || dt == "UINTEGER" || dt == "USMALLINT" || dt == "UTINYINT" || dt == "UHUGEINT":
		c.typ = "fixed"
	case decimalRe.MatchString(dt):
		m := decimalRe.FindStringSubmatch(dt)
		c.typ = "fixed"
		c.precision, _ = strconv.ParseInt(m[1], 10, 64)
		c.scale, _ = strconv.ParseInt(m[2], 10, 64)
	case dt == "DOUBLE" || dt == "FLOAT":
		c.typ = "real"
	case dt == "BOOLEAN":
		c.typ = "boolean"
	case strings.HasPrefix(dt, "TIMESTAMP"):
		c.typ = "timestamp_ntz"
		c.scale = 9
	case dt == "DATE":
		c.typ = "date"
	case dt == "TIME":
		c.typ = "time"
		c.scale = 9
	default:
		c.typ = "text"
	}
	return c
}

// formatValue renders a value as Snowflake's JSON result format does.
func formatValue(c column, v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case []byte:
		s = string(x)
	case bool:
		s = strconv.FormatBool(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int32, int16, int8, int, uint64, uint32, uint16, uint8:
		s = fmt.Sprint(x)
	case *big.Int:
		s = x.String()
	case duckdb.Decimal:
		s = decimalText(x)
	case float64:
		s = floatText(x)
	case float32:
		s = floatText(float64(x))
	case time.Time:
		x = x.UTC()
		switch c.typ {
		case "date":
			s = strconv.FormatInt(floorDiv(x.Unix(), 86400), 10)
		case "time":
			d := time.Duration(x.Hour())*time.Hour + time.Duration(x.Minute())*time.Minute + time.Duration(x.Second())*time.Second + time.Duration(x.Nanosecond())
			s = fmt.Sprintf("%d.%09d", int64(d/time.Second), int64(d%time.Second))
		default:
			sec := floorDiv(x.UnixNano(), 1e9)
			s = fmt.Sprintf("%d.%09d", sec, x.UnixNano()-sec*1e9)
		}
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func decimalText(d duckdb.Decimal) string {
	v := new(big.Int).Set(d.Value)
	neg := v.Sign() < 0
	v.Abs(v)
	digits := v.String()
	scale := int(d.Scale)
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}
