package stream

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// Record dispositions: every record ends in exactly one. Lateness is not
// one of them: a late record is loaded like any other (rec.late).
const (
	statusFresh     = iota // seen for the first time, not yet classified
	statusAccounted        // an earlier committed run accounted it (redelivery)
	statusRejected
	statusDuplicate
	statusLoaded
)

// rec is one message on its way through a batch.
type rec struct {
	msg       *port.Message
	ds        *datasetInfo // nil for a topic Pulse does not know
	status    int
	late      bool      // missed every window it could count in (it is still loaded)
	row       table.Row // cleaned staging row
	rejField  string
	rejReason string
	vals      []record.Value        // a decoded binary (Avro) value's columns, for its masked text
	masked    string                // text(), once made
	t         int64                 // event time, Unix µs (0 if the dataset has none)
	patch     map[string]table.Cell // fact columns a processor fills (PAGEVIEWS COUNTRY, AGE)
}

// origin is the record's position, "topic/partition/offset": its dedupe
// origin and the ORIGIN of its late rows.
func (r *rec) origin() string {
	return r.msg.Topic + "/" + itoa(int64(r.msg.Partition)) + "/" + itoa(r.msg.Offset)
}

// cell returns a cleaned field of the record.
func (r *rec) cell(field string) table.Cell {
	if j, ok := r.ds.index[field]; ok {
		return r.row[j]
	}
	return table.Cell{Null: true}
}

func (r *rec) str(field string) string { return r.cell(field).S }

// text is the record's text form for RECORD columns (quarantine,
// PULSE_REJECTS, PULSE_LATE_EVENTS), masked (DESIGN.md 4.6; only the raw
// archive keeps the value as it came): a JSON value as its text masked by
// the dataset's rule; a decoded Avro value with something to mask as the
// JSON object of its masked columns (replay decodes either); any other
// value as its text with e-mail addresses masked, or when it is not UTF-8,
// "base64:" and the base64 of its bytes with every address's local part
// blanked (a value with nothing to mask is kept as it came).
func (r *rec) text() string {
	if r.masked == "" {
		switch v := r.msg.Value; {
		case r.ds == nil:
			r.masked = valueText(dataset.MaskRecord(v))
		case r.vals != nil:
			r.masked = string(r.ds.cl.MaskedJSON(&record.Raw{Values: r.vals}))
		default:
			r.masked = valueText(r.ds.cl.MaskRecord(v, nil))
		}
	}
	return r.masked
}

func valueText(v []byte) string {
	if utf8.Valid(v) {
		return string(v)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(v)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// outputs collects what processors produce in one call, merged together.
type outputs struct {
	now     time.Time
	rows    map[*table.Schema][]table.Row
	late    map[string]table.Row // LATE_ID -> PULSE_LATE_EVENTS row
	deletes map[*table.Schema][]string
}

func newOutputs(now time.Time) *outputs {
	return &outputs{now: now, rows: map[*table.Schema][]table.Row{}, late: map[string]table.Row{}, deletes: map[*table.Schema][]string{}}
}

func (o *outputs) add(t *table.Schema, row table.Row) { o.rows[t] = append(o.rows[t], row) }

// del asks for a metric row to be deleted (a session partial superseded
// by a merged session that starts elsewhere).
func (o *outputs) del(t *table.Schema, id string) { o.deletes[t] = append(o.deletes[t], id) }

// metricID is METRIC_ID = md5(assigner|group key|window start in Unix µs).
func metricID(assigner, key string, start time.Time) string {
	return star.MD5Hex([]byte(assigner + "|" + key + "|" + itoa(micros(start))))
}

// addLate records that the event of r missed window w of assigner.
func (o *outputs) addLate(r *rec, assigner string, w window.Window, watermark int64) {
	id := star.MD5Hex([]byte(r.origin() + "|" + assigner + "|" + itoa(micros(w.Start))))
	wm := table.Cell{I: watermark}
	if watermark == noTime {
		wm = table.Cell{Null: true}
	}
	o.late[id] = table.Row{
		{S: id}, {S: r.ds.spec.Name}, {S: assigner}, {I: micros(w.Start)}, {I: micros(w.End)}, {I: r.t},
		wm, {S: r.origin()}, {S: r.text()}, {I: micros(o.now)},
	}
}

// finalCell and the window cells of a result row.
func windowCells(w window.Window) (table.Cell, table.Cell) {
	return table.Cell{I: micros(w.Start)}, table.Cell{I: micros(w.End)}
}
