package web

import (
	"context"
	"fmt"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// Tally sums manifests: how many there are (Files: files and stream
// batches) and their record accounting, port.Counts (DESIGN.md 4.2:
// received = loaded + rejected + duplicate, the late among the loaded).
// In JSON its fields are flat: files, received, loaded, rejected,
// duplicate, late.
type Tally struct {
	Files int64 `json:"files"`
	port.Counts
}

// String is "3 files: " and the counts' own text.
func (c Tally) String() string { return fmt.Sprintf("%d files: %s", c.Files, c.Counts) }

func (c *Tally) add(o Tally) {
	c.Files += o.Files
	c.Received += o.Received
	c.Loaded += o.Loaded
	c.Rejected += o.Rejected
	c.Duplicate += o.Duplicate
	c.Late += o.Late
}

// DatasetHealth is one dataset's row on the pipeline-health page.
type DatasetHealth struct {
	Dataset string `json:"dataset"`
	Tally
	Balanced     bool       `json:"balanced"`
	LastLoadedAt *time.Time `json:"lastLoadedAt"` // newest finished load
	AgeSeconds   *float64   `json:"ageSeconds"`   // how long ago that was
	Fresh        bool       `json:"fresh"`        // within Options.FreshWithin
}

// TopicHealth is one stream topic's accounting, summed over its stream
// manifests (one PULSE_MANIFESTS row per topic per handled batch).
type TopicHealth struct {
	Topic string `json:"topic"`
	Tally
	Balanced    bool       `json:"balanced"`
	LastBatchAt *time.Time `json:"lastBatchAt"`
	AgeSeconds  *float64   `json:"ageSeconds"`
	Fresh       bool       `json:"fresh"`
}

// LateHealth sums PULSE_LATE_EVENTS for one dataset and window type: the
// events that arrived after the watermark had passed a window of theirs.
type LateHealth struct {
	Dataset    string `json:"dataset"`
	WindowType string `json:"windowType"`
	Events     int64  `json:"events"`  // distinct late events (origins)
	Windows    int64  `json:"windows"` // rows: one per event and window it missed
	// FirstEventAt and LastEventAt bound the late events' event times.
	FirstEventAt *time.Time `json:"firstEventAt"`
	LastEventAt  *time.Time `json:"lastEventAt"`
	// MaxBehindSeconds: the most an event's time was behind the watermark when it arrived.
	MaxBehindSeconds *float64   `json:"maxBehindSeconds"`
	LastRecordedAt   *time.Time `json:"lastRecordedAt"`
}

// TestHealth is one data test's latest result, from DATA_TEST_RESULTS.
type TestHealth struct {
	Dataset        string    `json:"dataset"` // of the latest run: a dataset, or a suite group
	Table          string    `json:"table"`
	Test           string    `json:"test"`
	Runs           int64     `json:"runs"`
	FailedRuns     int64     `json:"failedRuns"`
	LatestStatus   string    `json:"latestStatus"`   // pass or fail
	LatestFailures int64     `json:"latestFailures"` // failing rows in the latest run
	LastRunAt      time.Time `json:"lastRunAt"`
	FileID         string    `json:"fileId"` // the file whose load ran it, or "suite"
	// Explanation, for a failing test: what its rows are, and the known
	// cause where there is one.
	Explanation *TestExplanation `json:"explanation,omitempty"`
}

// RejectReason counts rejected records by dataset and field.
type RejectReason struct {
	Dataset string `json:"dataset"`
	Field   string `json:"field"`
	Reason  string `json:"reason"` // one example reason
	Records int64  `json:"records"`
}

// RecentLoad is one recent manifest (a file or a stream batch).
type RecentLoad struct {
	Dataset string `json:"dataset"`
	Source  string `json:"source"`
	Status  string `json:"status"`
	Tally
	FinishedAt *time.Time `json:"finishedAt"`
}

// Health is the pipeline-health page.
type Health struct {
	Now             time.Time       `json:"now"`
	FreshWithinSecs float64         `json:"freshWithinSeconds"`
	Totals          Tally           `json:"totals"`
	Balanced        bool            `json:"balanced"`
	Datasets        []DatasetHealth `json:"datasets"`
	Streams         []TopicHealth   `json:"streams"`      // per stream topic
	StreamTotals    Tally           `json:"streamTotals"` // over every topic
	Late            []LateHealth    `json:"late"`
	Tests           []TestHealth    `json:"tests"`
	TestsPassing    int             `json:"testsPassing"` // tests whose latest run passed
	TestsFailing    int             `json:"testsFailing"`
	// TestsIntended counts the failing tests whose cause is the demo
	// generators' intended dirt (TestExplanation.Intended).
	TestsIntended int            `json:"testsIntended"`
	Rejects       []RejectReason `json:"rejects"`
	Recent        []RecentLoad   `json:"recent"`
	// Missing lists the relations the page reads that are not in the
	// warehouse (their sections are empty).
	Missing []string `json:"missing"`
}

// healthRelations are what the page reads.
var healthRelations = []string{"PIPELINE_HEALTH", "PULSE_MANIFESTS", "PULSE_LATE_EVENTS", "DATA_TEST_RESULTS", "PULSE_REJECTS"}

const (
	healthSQL = `SELECT DATASET, FILES, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE, LAST_LOADED_AT
  FROM PIPELINE_HEALTH ORDER BY DATASET`
	// streamSource is how a stream manifest's SOURCE starts (kafka://topic/partition@first-last).
	streamSource = "kafka://"
	streamsSQL   = `SELECT DATASET, COUNT(*), SUM(RECEIVED), SUM(LOADED), SUM(REJECTED), SUM(DUPLICATE), SUM(LATE), MAX(FINISHED_AT)
  FROM PULSE_MANIFESTS WHERE SOURCE LIKE '` + streamSource + `%' GROUP BY DATASET ORDER BY DATASET`
	testsSQL = `SELECT DATASET, TABLE_NAME, TEST, RUNS, FAILED_RUNS, STATUS, FAILURES, LAST_RUN_AT, FILE_ID
  FROM DATA_TEST_RESULTS ORDER BY CASE WHEN STATUS = 'fail' THEN 0 ELSE 1 END, TABLE_NAME, TEST`
	rejectsSQL = `SELECT DATASET, FIELD, MIN(REASON), COUNT(*) AS RECORDS FROM PULSE_REJECTS
 GROUP BY DATASET, FIELD ORDER BY RECORDS DESC, DATASET, FIELD LIMIT 12`
	recentSQL = `SELECT DATASET, SOURCE, STATUS, 1, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE, FINISHED_AT
  FROM PULSE_MANIFESTS ORDER BY FINISHED_AT DESC, SOURCE LIMIT 15`
)

// lateSQL sums PULSE_LATE_EVENTS per dataset and window type in the
// warehouse's dialect (the microseconds between event time and watermark).
func lateSQL(d sqlmodel.Dialect) string {
	return `SELECT DATASET, WINDOW_TYPE, COUNT(DISTINCT ORIGIN), COUNT(*), MIN(EVENT_TIME), MAX(EVENT_TIME),
       MAX(` + d.DiffMicros("EVENT_TIME", "WATERMARK") + `), MAX(RECORDED_AT)
  FROM PULSE_LATE_EVENTS GROUP BY DATASET, WINDOW_TYPE ORDER BY DATASET, WINDOW_TYPE`
}

// readHealth reads the pipeline-health page from the warehouse.
func readHealth(ctx context.Context, wh port.Warehouse, now time.Time, freshWithin time.Duration) (*Health, error) {
	h := &Health{Now: now.UTC(), FreshWithinSecs: freshWithin.Seconds(), Datasets: []DatasetHealth{}, Streams: []TopicHealth{},
		Late: []LateHealth{}, Tests: []TestHealth{}, Rejects: []RejectReason{}, Recent: []RecentLoad{}, Missing: []string{}}
	have, err := discover(ctx, wh, healthRelations)
	if err != nil {
		return nil, err
	}
	for _, r := range healthRelations {
		if _, ok := have[r]; !ok {
			h.Missing = append(h.Missing, r)
		}
	}
	run := func(rel, what, sql string, row func(r []any)) error {
		if _, ok := have[rel]; !ok {
			return nil
		}
		_, rows, err := wh.Query(ctx, sql)
		if err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		for _, r := range rows {
			row(r)
		}
		return nil
	}
	age := func(v any) (*time.Time, *float64, bool) {
		t, ok := v.(time.Time)
		if !ok {
			return nil, nil, false
		}
		t = t.UTC()
		a := now.Sub(t).Seconds()
		return &t, &a, now.Sub(t) <= freshWithin
	}
	err = run("PIPELINE_HEALTH", "pipeline health", healthSQL, func(r []any) {
		d := DatasetHealth{Dataset: str(r[0]), Tally: tally(r[1:7])}
		d.Balanced = d.Counts.Balanced()
		d.LastLoadedAt, d.AgeSeconds, d.Fresh = age(r[7])
		h.Totals.add(d.Tally)
		h.Datasets = append(h.Datasets, d)
	})
	if err != nil {
		return nil, err
	}
	h.Balanced = h.Totals.Balanced()

	err = run("PULSE_MANIFESTS", "the stream topics' manifests", streamsSQL, func(r []any) {
		t := TopicHealth{Topic: str(r[0]), Tally: tally(r[1:7])}
		t.Balanced = t.Counts.Balanced()
		t.LastBatchAt, t.AgeSeconds, t.Fresh = age(r[7])
		h.StreamTotals.add(t.Tally)
		h.Streams = append(h.Streams, t)
	})
	if err != nil {
		return nil, err
	}

	err = run("PULSE_LATE_EVENTS", "late events", lateSQL(sqlmodel.Of(wh)), func(r []any) {
		l := LateHealth{Dataset: str(r[0]), WindowType: str(r[1]), Events: integer(r[2]), Windows: integer(r[3]),
			FirstEventAt: timePtr(r[4]), LastEventAt: timePtr(r[5]), LastRecordedAt: timePtr(r[7])}
		if x, ok := number(r[6]); ok {
			s := x / 1e6
			l.MaxBehindSeconds = &s
		}
		h.Late = append(h.Late, l)
	})
	if err != nil {
		return nil, err
	}

	err = run("DATA_TEST_RESULTS", "data test results", testsSQL, func(r []any) {
		t := TestHealth{Dataset: str(r[0]), Table: str(r[1]), Test: str(r[2]), Runs: integer(r[3]), FailedRuns: integer(r[4]),
			LatestStatus: str(r[5]), LatestFailures: integer(r[6]), FileID: str(r[8])}
		if at, ok := r[7].(time.Time); ok {
			t.LastRunAt = at.UTC()
		}
		if t.LatestStatus == "fail" {
			h.TestsFailing++
			t.Explanation = explainFailure(ctx, wh, t)
			if t.Explanation.Intended {
				h.TestsIntended++
			}
		} else {
			h.TestsPassing++
		}
		h.Tests = append(h.Tests, t)
	})
	if err != nil {
		return nil, err
	}

	err = run("PULSE_REJECTS", "rejected records", rejectsSQL, func(r []any) {
		h.Rejects = append(h.Rejects, RejectReason{Dataset: str(r[0]), Field: str(r[1]), Reason: str(r[2]), Records: integer(r[3])})
	})
	if err != nil {
		return nil, err
	}

	err = run("PULSE_MANIFESTS", "recent loads", recentSQL, func(r []any) {
		h.Recent = append(h.Recent, RecentLoad{Dataset: str(r[0]), Source: str(r[1]), Status: str(r[2]), Tally: tally(r[3:9]),
			FinishedAt: timePtr(r[9])})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func timePtr(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		t = t.UTC()
		return &t
	}
	return nil
}

func tally(r []any) Tally {
	return Tally{Files: integer(r[0]), Counts: port.Counts{Received: integer(r[1]), Loaded: integer(r[2]), Rejected: integer(r[3]),
		Duplicate: integer(r[4]), Late: integer(r[5])}}
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func integer(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	case string:
		var n int64
		_, _ = fmt.Sscan(x, &n) // not a number: 0, as for the other types
		return n
	}
	return 0
}
