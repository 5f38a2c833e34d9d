package views

var (
	// DataTestResults: the latest result of every data test (per table and
	// test, the newest RUN_AT in PULSE_DATA_TESTS, whether it came from a
	// file's load or from a suite run of shared/datatest). FAILURES counts
	// the offending rows; STATUS is pass or fail. RUNS and FAILED_RUNS count
	// the results PULSE_DATA_TESTS keeps for the test: one per file whose
	// load ran it (each file's latest) plus one for the suite (replaced on
	// every suite run), so a suite failure that later passed is not counted.
	// Columns: TABLE_NAME, TEST, STATUS, FAILURES, LAST_RUN_AT, FILE_ID,
	// DATASET, RUNS, FAILED_RUNS.
	DataTestResults = View{"DATA_TEST_RESULTS", "Data tests: latest result per test", `
SELECT TABLE_NAME, TEST, STATUS, FAILURES, RUN_AT AS LAST_RUN_AT, FILE_ID, DATASET, RUNS, FAILED_RUNS FROM (
  SELECT TABLE_NAME, TEST, STATUS, FAILURES, RUN_AT, FILE_ID, DATASET,
         COUNT(*) OVER (PARTITION BY TABLE_NAME, TEST) AS RUNS,
         SUM(CASE WHEN STATUS = 'fail' THEN 1 ELSE 0 END) OVER (PARTITION BY TABLE_NAME, TEST) AS FAILED_RUNS,
         ROW_NUMBER() OVER (PARTITION BY TABLE_NAME, TEST ORDER BY RUN_AT DESC, FILE_ID DESC) AS RN
    FROM PULSE_DATA_TESTS) t
 WHERE RN = 1`, nil}
)

// Health are the views about Pulse itself besides PIPELINE_HEALTH (which
// Batch holds, for the local stack that applies Batch alone).
var Health = []View{DataTestResults}
