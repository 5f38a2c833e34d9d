package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// soakSample is one "memory:" line of pulse demo --mem-every.
type soakSample struct {
	elapsed                           time.Duration
	rss, hwm, heap, goSys, duck       int64 // bytes
	claims                            int64
	produced, received, loaded        int64
	files, batchReceived, batchLoaded int64
	load1                             float64 // load average when read
}

// runSoak runs `pulse demo` at a stated event rate for a stated time and
// reports its memory every interval, then whether it stayed flat.
func runSoak(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	rate := fs.Float64("rate", 5000, "events per second the simulator produces")
	duration := fs.Duration("duration", 10*time.Minute, "how long the demo runs")
	every := fs.Duration("every", 30*time.Second, "how often memory is reported")
	warmup := fs.Duration("warmup", 6*time.Minute, "samples before this are warm-up; flatness is judged after it")
	dir := fs.String("dir", "bench-out/soak", "folder for the demo's data folder (<dir>/<rate>, emptied first), its log and heap profiles")
	pulse := fs.String("pulse", "", "the pulse binary (default: pulse beside this binary, else on PATH)")
	dashboard := fs.Bool("dashboard", false, "serve the web dashboard and read every panel each minute, as an open browser tab would")
	profiles := fs.Bool("heap-profiles", false, "write a Go heap profile at each report into <dir>/<rate>-profiles")
	limit := fs.Int64("limit-mib", 512, "the RSS the run should stay under, in MiB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate <= 0 || *duration <= 0 || *every <= 0 {
		return errors.New("--rate, --duration and --every must be positive")
	}
	bin, err := findPulse(*pulse)
	if err != nil {
		return err
	}
	name := strconv.FormatFloat(*rate, 'f', -1, 64)
	data, err := filepath.Abs(filepath.Join(*dir, name))
	if err != nil {
		return err
	}
	if err := os.RemoveAll(data); err != nil {
		return fmt.Errorf("emptying %s: %w", data, err)
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", data, err)
	}
	logPath := filepath.Join(*dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating the demo log: %w", err)
	}
	defer logf.Close()

	demoArgs := []string{"demo", "--dir", data, "--duration", duration.String(), "--sim-rate", name,
		"--kafka-port", "0", "--mem-every", every.String()}
	if *dashboard {
		demoArgs = append(demoArgs, "--addr", "127.0.0.1:0")
	} else {
		demoArgs = append(demoArgs, "--addr", "off")
	}
	if *profiles {
		demoArgs = append(demoArgs, "--heap-profiles", filepath.Join(*dir, name+"-profiles"))
	}
	cmd := exec.CommandContext(ctx, bin, demoArgs...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	fmt.Printf("soak: %s %s\n", bin, strings.Join(demoArgs, " "))
	fmt.Printf("  %d CPUs, %s, load average %s at the start; demo output in %s\n", runtime.NumCPU(), runtime.Version(), loadAvg(), logPath)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting pulse demo: %w", err)
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()

	fmt.Printf("  %7s %8s %8s %8s %8s %8s %9s %10s %10s %8s %6s %5s\n",
		"elapsed", "RSS MiB", "peak", "Go heap", "Go all", "DuckDB", "claims", "produced", "loaded", "behind", "files", "load")
	var samples []soakSample
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logf, line)
		if *dashboard && strings.Contains(line, "dashboard: http") {
			if url := dashboardURL(line); url != "" {
				go pollDashboard(pollCtx, url, logf)
			}
		}
		s, ok := parseSoakLine(line)
		if !ok {
			continue
		}
		s.load1 = load1()
		samples = append(samples, s)
		fmt.Printf("  %7s %8.1f %8.1f %8.1f %8.1f %8.1f %9d %10d %10d %8d %6d %5.1f\n",
			fmtElapsed(s.elapsed), mib(s.rss), mib(s.hwm), mib(s.heap), mib(s.goSys), mib(s.duck), s.claims,
			s.produced, s.loaded, s.produced-s.received, s.files, s.load1)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the demo's output: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("pulse demo: %w (its output: %s)", err, logPath)
	}
	stopPoll()
	return soakSummary(os.Stdout, samples, *rate, *warmup, *limit<<20)
}

// soakSummary prints RSS at the end of the warm-up and at the end, the
// slope after the warm-up, and the verdicts.
func soakSummary(w io.Writer, samples []soakSample, rate float64, warmup time.Duration, limit int64) error {
	var after []soakSample
	for _, s := range samples {
		if s.elapsed >= warmup {
			after = append(after, s)
		}
	}
	if len(after) < 2 {
		return fmt.Errorf("only %d memory samples after the %s warm-up: run longer", len(after), warmup)
	}
	first, last := after[0], after[len(after)-1]
	var peak int64
	for _, s := range samples {
		peak = max(peak, s.rss, s.hwm)
	}
	slope := rssSlope(after) // MiB per minute
	secs := last.elapsed.Seconds()
	fmt.Fprintf(w, "\nsummary at %g events/s over %s (load average %s at the end):\n", rate, fmtElapsed(last.elapsed), loadAvg())
	fmt.Fprintf(w, "  RSS %.1f MiB at the end of the warm-up (%s), %.1f MiB at the end; peak %.1f MiB\n",
		mib(first.rss), fmtElapsed(first.elapsed), mib(last.rss), mib(peak))
	fmt.Fprintf(w, "  slope after the warm-up: %+.2f MiB/min over %d samples (least squares)\n", slope, len(after))
	fmt.Fprintf(w, "  produced %d events (%.0f/s), the stream received %d (%.0f/s) and loaded %d; %d not yet handled at the end\n",
		last.produced, float64(last.produced)/secs, last.received, float64(last.received)/secs, last.loaded, last.produced-last.received)
	flat := math.Abs(slope) < 1 // MiB/min: under 10 MiB over a 10-minute run
	fmt.Fprintf(w, "  flat after warm-up (|slope| < 1 MiB/min): %v; under %d MiB throughout: %v\n", flat, limit>>20, peak < limit)
	return nil
}

// rssSlope is the least-squares slope of RSS over time, in MiB per minute.
func rssSlope(ss []soakSample) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss {
		x, y := s.elapsed.Minutes(), mib(s.rss)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// parseSoakLine reads one "memory: key=value ..." line.
func parseSoakLine(line string) (soakSample, bool) {
	rest, ok := strings.CutPrefix(line, "memory: ")
	if !ok {
		return soakSample{}, false
	}
	var s soakSample
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		if k == "elapsed" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return soakSample{}, false
			}
			s.elapsed = d
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "rss_kib":
			s.rss = n << 10
		case "hwm_kib":
			s.hwm = n << 10
		case "heap_inuse_kib":
			s.heap = n << 10
		case "go_kib":
			s.goSys = n << 10
		case "duckdb_kib":
			s.duck = n << 10
		case "dedupe_claims":
			s.claims = n
		case "produced":
			s.produced = n
		case "stream_received":
			s.received = n
		case "stream_loaded":
			s.loaded = n
		case "batch_files":
			s.files = n
		case "batch_received":
			s.batchReceived = n
		case "batch_loaded":
			s.batchLoaded = n
		}
	}
	return s, s.elapsed > 0
}

// findPulse finds the pulse binary: the flag, else beside this binary,
// else on PATH.
func findPulse(flagged string) (string, error) {
	if flagged != "" {
		return filepath.Abs(flagged)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "pulse")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("pulse")
	if err != nil {
		return "", errors.New("no pulse binary: build one (go build -tags minicore_disabled -o bench-out/pulse ./cmd/pulse) and pass --pulse")
	}
	return p, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func load1() float64 {
	f := strings.Fields(loadAvg())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
