package port

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// QuarantineRecord is one rejected record as kept in the quarantine
// bucket: whole, with where it came from and why it was rejected.
type QuarantineRecord struct {
	Dataset string             `json:"dataset"`
	Origin  string             `json:"origin"` // file version
	Source  string             `json:"source"` // file key
	Pos     int64              `json:"pos"`
	Field   string             `json:"field,omitempty"`
	Reason  string             `json:"reason"`
	Record  string             `json:"record"`           // the original bytes, masked (dataset.MaskRecord), as RecordText
	Values  map[string]*string `json:"values,omitempty"` // the parsed input columns, masked, when the record parsed
}

// RejectID identifies a rejected record by what it is and where it sits:
// its dataset, source (file key, or Kafka topic/partition/offset), position
// and bytes. The same rejected record delivered again (a redelivery, the
// same file uploaded again as a new version) is the same reject, so
// PULSE_REJECTS keeps it once.
func RejectID(q QuarantineRecord) string {
	return star.MD5Hex(fmt.Appendf(nil, "%s|%s|%d|%s", q.Dataset, q.Source, q.Pos, q.Record))
}

// RejectRow is the PULSE_REJECTS row of a quarantine record.
func RejectRow(q QuarantineRecord, at int64) table.Row {
	return table.Row{
		{S: RejectID(q)}, {S: q.Dataset}, {S: q.Source}, {I: q.Pos}, {S: q.Field}, {S: q.Reason},
		{S: q.Record}, {I: at}, {B: false},
	}
}

// MarkReplayed sets REPLAYED on the PULSE_REJECTS rows with these
// REJECT_IDs (RejectID of each record's origin and position). The stream
// path's replay uses it too.
func MarkReplayed(ctx context.Context, wh Warehouse, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var sb strings.Builder
		for i, id := range ids[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("'" + id + "'")
		}
		if err := wh.Exec(ctx, fmt.Sprintf("UPDATE %s SET REPLAYED = TRUE WHERE REJECT_ID IN (%s)", star.Rejects.Name, sb.String())); err != nil {
			return fmt.Errorf("marking replayed rejects: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
