package web

import (
	"context"
	"fmt"
	"time"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// Counts are one dataset's (or all datasets') record accounting:
// received = loaded + rejected + duplicate + late (DESIGN.md 4.2).
type Counts struct {
	Files     int64 `json:"files"`
	Received  int64 `json:"received"`
	Loaded    int64 `json:"loaded"`
	Rejected  int64 `json:"rejected"`
	Duplicate int64 `json:"duplicate"`
	Late      int64 `json:"late"`
}

// Balanced reports whether every received record is accounted for.
func (c Counts) Balanced() bool {
	return c.Received == c.Loaded+c.Rejected+c.Duplicate+c.Late
}

func (c *Counts) add(o Counts) {
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
	Counts
	Balanced     bool       `json:"balanced"`
	LastLoadedAt *time.Time `json:"lastLoadedAt"` // newest finished load
	AgeSeconds   *float64   `json:"ageSeconds"`   // how long ago that was
	Fresh        bool       `json:"fresh"`        // within Options.FreshWithin
}

// TestHealth sums one data test's runs.
type TestHealth struct {
	Dataset        string    `json:"dataset"`
	Table          string    `json:"table"`
	Test           string    `json:"test"`
	Runs           int64     `json:"runs"`
	FailedRuns     int64     `json:"failedRuns"`
	Failures       int64     `json:"failures"`       // failing rows over every run
	LatestStatus   string    `json:"latestStatus"`   // pass or fail
	LatestFailures int64     `json:"latestFailures"` // failing rows in the latest run
	LastRunAt      time.Time `json:"lastRunAt"`
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
	Counts
	FinishedAt *time.Time `json:"finishedAt"`
}

// Health is the pipeline-health page.
type Health struct {
	Now             time.Time       `json:"now"`
	FreshWithinSecs float64         `json:"freshWithinSeconds"`
	Totals          Counts          `json:"totals"`
	Balanced        bool            `json:"balanced"`
	Datasets        []DatasetHealth `json:"datasets"`
	Tests           []TestHealth    `json:"tests"`
	TestsPassing    int             `json:"testsPassing"` // tests whose latest run passed
	TestsFailing    int             `json:"testsFailing"`
	Rejects         []RejectReason  `json:"rejects"`
	Recent          []RecentLoad    `json:"recent"`
}

const (
	healthSQL = `SELECT DATASET, FILES, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE, LAST_LOADED_AT
  FROM PIPELINE_HEALTH ORDER BY DATASET`
	testsSQL = `SELECT a.DATASET, a.TABLE_NAME, a.TEST, a.RUNS, a.FAILED_RUNS, a.FAILURES, l.STATUS, l.FAILURES, a.LAST_RUN_AT
  FROM (SELECT DATASET, TABLE_NAME, TEST, COUNT(*) AS RUNS, SUM(CASE WHEN STATUS = 'fail' THEN 1 ELSE 0 END) AS FAILED_RUNS,
               SUM(FAILURES) AS FAILURES, MAX(RUN_AT) AS LAST_RUN_AT
          FROM PULSE_DATA_TESTS GROUP BY DATASET, TABLE_NAME, TEST) a
  JOIN (SELECT DATASET, TABLE_NAME, TEST, STATUS, FAILURES,
               ROW_NUMBER() OVER (PARTITION BY DATASET, TABLE_NAME, TEST ORDER BY RUN_AT DESC, FILE_ID DESC) AS RN
          FROM PULSE_DATA_TESTS) l
    ON l.DATASET = a.DATASET AND l.TABLE_NAME = a.TABLE_NAME AND l.TEST = a.TEST AND l.RN = 1
 ORDER BY CASE WHEN l.STATUS = 'fail' THEN 0 ELSE 1 END, a.DATASET, a.TABLE_NAME, a.TEST`
	rejectsSQL = `SELECT DATASET, FIELD, MIN(REASON), COUNT(*) AS RECORDS FROM PULSE_REJECTS
 GROUP BY DATASET, FIELD ORDER BY RECORDS DESC, DATASET, FIELD LIMIT 12`
	recentSQL = `SELECT DATASET, SOURCE, STATUS, 1, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE, FINISHED_AT
  FROM PULSE_MANIFESTS ORDER BY FINISHED_AT DESC, SOURCE LIMIT 15`
)

// readHealth reads the pipeline-health page from the warehouse.
func readHealth(ctx context.Context, wh pipeline.Warehouse, now time.Time, freshWithin time.Duration) (*Health, error) {
	h := &Health{Now: now.UTC(), FreshWithinSecs: freshWithin.Seconds(),
		Datasets: []DatasetHealth{}, Tests: []TestHealth{}, Rejects: []RejectReason{}, Recent: []RecentLoad{}}
	_, rows, err := wh.Query(ctx, healthSQL)
	if err != nil {
		return nil, fmt.Errorf("reading pipeline health: %w", err)
	}
	for _, r := range rows {
		d := DatasetHealth{Dataset: str(r[0]), Counts: counts(r[1:7])}
		d.Balanced = d.Counts.Balanced()
		if t, ok := r[7].(time.Time); ok {
			t = t.UTC()
			age := now.Sub(t).Seconds()
			d.LastLoadedAt, d.AgeSeconds, d.Fresh = &t, &age, now.Sub(t) <= freshWithin
		}
		h.Totals.add(d.Counts)
		h.Datasets = append(h.Datasets, d)
	}
	h.Balanced = h.Totals.Balanced()

	if _, rows, err = wh.Query(ctx, testsSQL); err != nil {
		return nil, fmt.Errorf("reading data test results: %w", err)
	}
	for _, r := range rows {
		t := TestHealth{Dataset: str(r[0]), Table: str(r[1]), Test: str(r[2]), Runs: integer(r[3]), FailedRuns: integer(r[4]),
			Failures: integer(r[5]), LatestStatus: str(r[6]), LatestFailures: integer(r[7])}
		if at, ok := r[8].(time.Time); ok {
			t.LastRunAt = at.UTC()
		}
		if t.LatestStatus == "fail" {
			h.TestsFailing++
		} else {
			h.TestsPassing++
		}
		h.Tests = append(h.Tests, t)
	}

	if _, rows, err = wh.Query(ctx, rejectsSQL); err != nil {
		return nil, fmt.Errorf("reading rejected records: %w", err)
	}
	for _, r := range rows {
		h.Rejects = append(h.Rejects, RejectReason{Dataset: str(r[0]), Field: str(r[1]), Reason: str(r[2]), Records: integer(r[3])})
	}

	if _, rows, err = wh.Query(ctx, recentSQL); err != nil {
		return nil, fmt.Errorf("reading recent loads: %w", err)
	}
	for _, r := range rows {
		l := RecentLoad{Dataset: str(r[0]), Source: str(r[1]), Status: str(r[2]), Counts: counts(r[3:9])}
		if t, ok := r[9].(time.Time); ok {
			t = t.UTC()
			l.FinishedAt = &t
		}
		h.Recent = append(h.Recent, l)
	}
	return h, nil
}

func counts(r []any) Counts {
	return Counts{Files: integer(r[0]), Received: integer(r[1]), Loaded: integer(r[2]), Rejected: integer(r[3]),
		Duplicate: integer(r[4]), Late: integer(r[5])}
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
		fmt.Sscan(x, &n)
		return n
	}
	return 0
}
