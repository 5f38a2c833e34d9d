package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
)

// memoryReport prints, every interval, one line about the demo process's
// memory and the events it has handled, for watching a long run (and for
// pulse-bench soak, which reads these lines):
//
//	memory: elapsed=30s rss_kib=… hwm_kib=… heap_inuse_kib=… go_kib=… duckdb_kib=… dedupe_claims=… goroutines=… produced=… stream_received=… stream_loaded=… batch_files=… batch_received=… batch_loaded=…
//
// RSS and its peak (VmRSS, VmHWM) come from /proc/self/status; the Go heap
// in use and all the Go runtime holds from the OS (go_kib: Sys less the
// heap given back) from runtime.MemStats; DuckDB's buffer-manager memory
// from duckdb_memory(); dedupe_claims is the in-process dedupe store's
// size. With a profile folder, a Go heap profile is written
// there at each line (heap-<elapsed seconds>.pprof; go tool pprof
// -base an-earlier-one shows what grew).
type memoryReport struct {
	st         *stack.Stack
	ds         *demoStream // nil without the stream side
	start      time.Time
	profileDir string
	w          io.Writer
	stop       chan struct{}
	done       sync.WaitGroup
}

func startMemoryReport(ctx context.Context, w io.Writer, st *stack.Stack, ds *demoStream, every time.Duration, profileDir string) (*memoryReport, error) {
	if every <= 0 {
		return nil, nil
	}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the heap profile folder: %w", err)
		}
	}
	m := &memoryReport{st: st, ds: ds, start: time.Now(), profileDir: profileDir, w: w, stop: make(chan struct{})}
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-m.stop:
				return
			case <-t.C:
				m.line(ctx)
			}
		}
	}()
	return m, nil
}

// close prints a last line and stops the reports.
func (m *memoryReport) close(ctx context.Context) {
	if m == nil {
		return
	}
	close(m.stop)
	m.done.Wait()
	m.line(ctx)
}

func (m *memoryReport) line(ctx context.Context) {
	elapsed := time.Since(m.start).Round(time.Second)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, hwm := procStatus("/proc/self/status")
	duck := int64(-1)
	if n, err := m.st.Warehouse.MemoryUsage(ctx); err == nil {
		duck = n
	}
	var produced, sRecv, sLoaded int64
	if m.ds != nil {
		m.ds.mu.Lock()
		produced = int64(m.ds.stats.Events)
		m.ds.mu.Unlock()
		for _, c := range m.ds.ss.Counts() {
			sRecv += c.Received
			sLoaded += c.Loaded
		}
	}
	claims := -1
	if d, ok := m.st.Env.Dedupe.(interface{ Len() int }); ok {
		claims = d.Len()
	}
	var files, bRecv, bLoaded int64
	for _, r := range m.st.Runs() {
		files++
		if r.Manifest != nil {
			bRecv += r.Manifest.Counts.Received
			bLoaded += r.Manifest.Counts.Loaded
		}
	}
	fmt.Fprintf(m.w, "memory: elapsed=%s rss_kib=%d hwm_kib=%d heap_inuse_kib=%d go_kib=%d duckdb_kib=%d dedupe_claims=%d goroutines=%d produced=%d stream_received=%d stream_loaded=%d batch_files=%d batch_received=%d batch_loaded=%d\n",
		elapsed, rss>>10, hwm>>10, ms.HeapInuse>>10, (ms.Sys-ms.HeapReleased)>>10, duck>>10, claims, runtime.NumGoroutine(), produced, sRecv, sLoaded, files, bRecv, bLoaded)
	if m.profileDir != "" {
		if err := writeHeapProfile(filepath.Join(m.profileDir, fmt.Sprintf("heap-%05d.pprof", int(elapsed.Seconds())))); err != nil {
			fmt.Fprintf(m.w, "  memory: %v\n", err)
		}
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("writing heap profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing heap profile %s: %w", path, err)
	}
	return nil
}

// procStatus reads the resident set and its peak (bytes) from a
// /proc/<pid>/status file; 0, 0 where there is none.
func procStatus(path string) (rss, hwm int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			hwm = n << 10
		}
	}
	return rss, hwm
}
