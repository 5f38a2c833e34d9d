package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/tests/bench"
)

// childCommand runs one Clean+Model in the measured process.
const childCommand = "rss-child"

// childResult is what the child prints on stdout when done.
type childResult struct {
	Received  int64   `json:"received"`
	Loaded    int64   `json:"loaded"`
	Rejected  int64   `json:"rejected"`
	Duplicate int64   `json:"duplicate"`
	CleanSec  float64 `json:"cleanSec"`
	ModelSec  float64 `json:"modelSec"`
	HeapPeak  uint64  `json:"heapPeak"` // runtime HeapSys at the end: the most the heap held
	GCs       uint32  `json:"gcs"`
	VmHWM     int64   `json:"vmHWM"` // the child's own peak RSS, read from /proc/self/status at the end
	CPUSec    float64 `json:"cpuSec"`
}

func runRSS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	sizes := fs.String("mb", "128,1024", "NDJSON file sizes to run, in MiB, comma-separated")
	dir := fs.String("dir", "bench-out", "folder for fixtures and the object store (git-ignored)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var mbs []int64
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("--mb %q: want sizes in MiB like 128,1024", *sizes)
		}
		mbs = append(mbs, n)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	var rows []string
	for _, mb := range mbs {
		line, err := rssRun(ctx, self, *dir, mb)
		if err != nil {
			return err
		}
		rows = append(rows, line)
	}
	fmt.Println()
	fmt.Println("peak RSS of Clean+Model (live_streaming NDJSON, one process, GOMAXPROCS=1):")
	fmt.Printf("  %-10s %-10s %-10s %-12s %-12s %-10s %-12s %s\n", "file MiB", "records", "seconds", "records/s", "rec/CPU-s", "MiB/s", "peak RSS", "counts")
	for _, r := range rows {
		fmt.Println("  " + r)
	}
	var load [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		_, _ = fmt.Sscan(string(b), &load[0], &load[1], &load[2]) // shown as read; an unreadable field stays 0
	}
	fmt.Printf("  (%s, %d CPUs, load average %.2f %.2f %.2f at the end)\n", runtime.Version(), runtime.NumCPU(), load[0], load[1], load[2])
	return nil
}

// rssRun measures one file size and returns its summary row.
func rssRun(ctx context.Context, self, dir string, mb int64) (string, error) {
	path, truth, err := bench.LiveNDJSON(filepath.Join(dir, "fixtures"), mb<<20, os.Stdout)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	root, err := filepath.Abs(filepath.Join(dir, "run", "rss"))
	if err != nil {
		return "", err
	}
	b, err := bench.PrepareOnce(ctx, root, dataset.LiveStreaming.Name, path)
	if err != nil {
		return "", err
	}

	// The dedupe keys stay here, served to the child.
	sock := filepath.Join(os.TempDir(), fmt.Sprintf("pulse-bench-%d.sock", os.Getpid()))
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return "", fmt.Errorf("listening for the child: %w", err)
	}
	defer os.Remove(sock)
	defer ln.Close()
	go func() { _ = bench.ServeDedupe(ln, memory.NewDedupe()) }()

	cmd := exec.CommandContext(ctx, self, childCommand, "--root", root, "--key", b.Key(), "--dedupe", sock)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	var out strings.Builder
	cmd.Stdout = &out
	fmt.Printf("rss: %s (%d MiB, %d records) through Clean+Model in a child process\n", filepath.Base(path), fi.Size()>>20, truth.Rows)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting the child: %w", err)
	}
	var hwm int64 // sampled while the child runs
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		phase, read, ok := parseProgress(line)
		if !ok {
			fmt.Fprintln(os.Stderr, "  child: "+line)
			continue
		}
		rss, peak := procRSS(cmd.Process.Pid)
		hwm = max(hwm, peak)
		pct := 100 * float64(read) / float64(fi.Size())
		fmt.Printf("  %5.1fs %-5s %5.1f%% of the file read, RSS %d MiB (peak %d MiB)\n", time.Since(start).Seconds(), phase, pct, rss>>20, peak>>20)
	}
	err = cmd.Wait()
	elapsed := time.Since(start)
	if err != nil {
		return "", fmt.Errorf("child: %w", err)
	}
	var res childResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		return "", fmt.Errorf("reading the child's result %q: %w", out.String(), err)
	}
	if res.Received != int64(truth.Rows) || res.Loaded != int64(truth.Loaded) || res.Rejected != int64(truth.Rejected) || res.Duplicate != int64(truth.Duplicate) {
		return "", fmt.Errorf("counts received %d loaded %d rejected %d duplicate %d; the generator wrote %+v", res.Received, res.Loaded, res.Rejected, res.Duplicate, truth)
	}
	// The child's own VmHWM, read just before it exits, is its peak.
	// (getrusage's ru_maxrss is not used: Go starts children with
	// vfork semantics, and Linux folds the parent's resident set at that
	// moment into the child's maxrss.)
	peak := max(res.VmHWM, hwm)
	run := res.CleanSec + res.ModelSec
	fmt.Printf("  done in %.1fs (clean %.1fs, model %.1fs, CPU %.1fs): peak RSS %d MiB, Go heap at most %d MiB, %d GCs\n",
		elapsed.Seconds(), res.CleanSec, res.ModelSec, res.CPUSec, peak>>20, res.HeapPeak>>20, res.GCs)
	return fmt.Sprintf("%-10d %-10d %-10.1f %-12.0f %-12.0f %-10.1f %-12s loaded %d, rejected %d, duplicate %d",
		fi.Size()>>20, res.Received, run, float64(res.Received)/run, float64(res.Received)/res.CPUSec, float64(fi.Size())/(1<<20)/run,
		fmt.Sprintf("%d MiB", peak>>20), res.Loaded, res.Rejected, res.Duplicate), nil
}

// parseProgress reads a child's "progress PHASE BYTES" line.
func parseProgress(line string) (string, int64, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "progress" {
		return "", 0, false
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	return f[1], n, err == nil
}

// procRSS reads a process's current and peak resident set from
// /proc/<pid>/status (0, 0 where there is no /proc).
func procRSS(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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

// runChild is the measured process: Clean+Model of one raw object.
func runChild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(childCommand, flag.ContinueOnError)
	root := fs.String("root", "", "object store folder")
	key := fs.String("key", "", "raw object key")
	sock := fs.String("dedupe", "", "dedupe server socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" || *key == "" || *sock == "" {
		return errors.New("--root, --key and --dedupe are required")
	}
	d, err := bench.DialDedupe(*sock)
	if err != nil {
		return err
	}
	defer d.Close()
	b, err := bench.OpenBatch(ctx, *root, *key)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				phase, n := b.Store.Progress()
				fmt.Fprintf(os.Stderr, "progress %s %d\n", phase, n)
			}
		}
	}()
	res, err := b.CleanModel(ctx, d)
	close(done)
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	_, hwm := procRSS(os.Getpid())
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(os.Stdout).Encode(childResult{
		Received: res.Counts.Received, Loaded: res.Counts.Loaded, Rejected: res.Counts.Rejected, Duplicate: res.Counts.Duplicate,
		CleanSec: res.Clean.Seconds(), ModelSec: res.Model.Seconds(), HeapPeak: ms.HeapSys, GCs: ms.NumGC,
		VmHWM: hwm, CPUSec: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(),
	})
}
