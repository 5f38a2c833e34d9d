package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseRIELine(t *testing.T) {
	for _, c := range []struct {
		line string
		want rieEvent
	}{
		{"07 Dec 2026 21:56:39,557 [INFO] (rapid) INIT RTDONE(status: success)",
			rieEvent{kind: "init done", at: time.Date(2026, 12, 7, 21, 56, 39, 557e6, time.UTC), ok: true}},
		{"07 Dec 2026 21:56:39,557 [INFO] (rapid) INIT RTDONE(status: error)",
			rieEvent{kind: "init done", at: time.Date(2026, 12, 7, 21, 56, 39, 557e6, time.UTC)}},
		{"07 Dec 2026 21:56:39,557 [INFO] (rapid) INIT REPORT(durationMs: 16.689000)",
			rieEvent{kind: "init report", at: time.Date(2026, 12, 7, 21, 56, 39, 557e6, time.UTC), ms: 16.689}},
		{"07 Dec 2026 21:56:39,560 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 2.044000ms)",
			rieEvent{kind: "invoke done", at: time.Date(2026, 12, 7, 21, 56, 39, 560e6, time.UTC), ok: true, ms: 2.044}},
		{"START RequestId: a2953471 Version: $LATEST", rieEvent{}},
	} {
		if got := parseRIELine(c.line); got != c.want {
			t.Errorf("%q: got %+v, want %+v", c.line, got, c.want)
		}
	}
}

// TestPrintColdstart: the median of an even count is the mean of the middle two; the ratio is
// the fastest init over hello world's fastest.
func TestPrintColdstart(t *testing.T) {
	targets := []coldstartTarget{{name: helloName, size: 6_300_000}, {name: "stream", size: 51_800_000}}
	results := [][]coldstartRun{
		{{initMs: 20, invokeMs: 2, initOK: true, invokeOK: true, hwmKiB: 6 << 10}, {initMs: 16, invokeMs: 4, initOK: true, invokeOK: true, hwmKiB: 7 << 10}},
		{{initMs: 50, invokeMs: 30, initOK: true, invokeOK: true, hwmKiB: 38 << 10}, {initMs: 40, invokeMs: 10, initOK: true, hwmKiB: 39 << 10, initCalls: 1, initPaths: []string{"secretsmanager.GetSecretValue"}}},
	}
	var out bytes.Buffer
	printColdstart(&out, targets, results)
	lines := strings.Split(out.String(), "\n")
	for _, want := range [][]string{
		{"hello", "6.3", "16.0", "18.0", "3.0", "7.0", "0", "1.00x", "init ok 2/2, invoke ok 2/2"},
		{"stream", "51.8", "40.0", "45.0", "20.0", "39.0", "1", "2.50x", "init ok 2/2, invoke ok 1/2; at init: secretsmanager.GetSecretValue"},
	} {
		found := false
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == want[0] {
				found = true
				if got := strings.Join(f[:8], " ") + " " + strings.Join(f[8:], " "); got != strings.Join(want, " ") {
					t.Errorf("row %s: got %q, want %q", want[0], got, strings.Join(want, " "))
				}
			}
		}
		if !found {
			t.Errorf("no row %s in\n%s", want[0], out.String())
		}
	}
}
