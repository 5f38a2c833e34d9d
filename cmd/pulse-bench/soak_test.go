package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseSoakLine(t *testing.T) {
	s, ok := parseSoakLine("memory: elapsed=1m30s rss_kib=2048 hwm_kib=4096 heap_inuse_kib=1024 go_kib=1536 duckdb_kib=512 dedupe_claims=77 goroutines=9 produced=45000 stream_received=44000 stream_loaded=43000 batch_files=18 batch_received=90000 batch_loaded=80000")
	if !ok {
		t.Fatal("not parsed")
	}
	want := soakSample{elapsed: 90 * time.Second, rss: 2 << 20, hwm: 4 << 20, heap: 1 << 20, goSys: 1536 << 10, duck: 512 << 10, claims: 77,
		produced: 45000, received: 44000, loaded: 43000, files: 18, batchReceived: 90000, batchLoaded: 80000}
	if s != want {
		t.Errorf("parsed %+v, want %+v", s, want)
	}
	for _, line := range []string{"  stream: produced 5", "memory: rss_kib=5", "memory: elapsed=soon rss_kib=5"} {
		if _, ok := parseSoakLine(line); ok {
			t.Errorf("%q parsed as a memory line", line)
		}
	}
}

// TestSoakSummary: RSS rising 2 MiB a minute after the warm-up is a slope
// of +2.00 and not flat; a peak over the limit is reported.
func TestSoakSummary(t *testing.T) {
	var ss []soakSample
	for m := 1; m <= 10; m++ {
		rss := int64(300+2*m) << 20
		ss = append(ss, soakSample{elapsed: time.Duration(m) * time.Minute, rss: rss, hwm: rss, produced: int64(m) * 60 * 500, received: int64(m) * 60 * 500})
	}
	ss[2].hwm = 600 << 20 // a peak during the warm-up
	var out bytes.Buffer
	if err := soakSummary(&out, ss, 500, 4*time.Minute, 512<<20); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"RSS 308.0 MiB at the end of the warm-up (4:00), 320.0 MiB at the end; peak 600.0 MiB",
		"slope after the warm-up: +2.00 MiB/min over 7 samples",
		"produced 300000 events (500/s)",
		"flat after warm-up (|slope| < 1 MiB/min): false; under 512 MiB throughout: false",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if err := soakSummary(&out, ss[:4], 500, 4*time.Minute, 512<<20); err == nil {
		t.Error("a run with one sample after the warm-up gave a summary")
	}
}
