package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// helloName is the baseline's row in the coldstart table.
const helloName = "hello"

// coldstartRun is one fresh process under the Runtime Interface Emulator.
type coldstartRun struct {
	initMs     float64 // INIT REPORT(durationMs: ...)
	invokeMs   float64 // INVOKE RTDONE(... duration: ...ms): the first invocation
	invokeOK   bool    // INVOKE RTDONE(status: success)
	initOK     bool    // INIT RTDONE(status: success)
	hwmKiB     int64   // the function process's VmHWM after the first invocation
	initCalls  int     // requests the stand-ins got before the init ended
	totalCalls int     // requests the stand-ins got during the whole run
	initPaths  []string
}

// coldstartTarget is one bootstrap to measure.
type coldstartTarget struct {
	name    string
	binary  string
	size    int64
	env     map[string]string
	payload string
}

func runColdstart(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	runs := fs.Int("runs", 5, "fresh processes per function")
	only := fs.String("functions", "", "functions to measure, comma-separated (default: every functions/*)")
	dir := fs.String("dir", "bench-out/coldstart", "folder for the built bootstraps (git-ignored)")
	rie := fs.String("rie", ".tools/rie/bin/aws-lambda-rie", "the Runtime Interface Emulator (localstack/tools/rie.sh installs it)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pulse-bench coldstart [--runs 5] [--functions stream,load] [--dir bench-out/coldstart] [--rie .tools/rie/bin/aws-lambda-rie]")
		fmt.Fprintln(fs.Output(), "Builds each function of functions/* (linux, this machine's architecture, as infra/build-lambdas.sh) and a")
		fmt.Fprintln(fs.Output(), "hello-world bootstrap, runs each --runs times under the RIE (a fresh process each time, endpoints on local")
		fmt.Fprintln(fs.Output(), "stand-ins), invokes it once and prints init and first-invoke durations. Run it from the repository root.")
		fs.PrintDefaults()
	}
	fs.SetOutput(io.Discard) // help on stdout, errors on stderr through main
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return err
		}
		return usageError{fmt.Errorf("%w (pulse-bench coldstart -h for help)", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("coldstart: unexpected argument %q", fs.Arg(0))}
	}
	if *runs < 1 {
		return usageError{fmt.Errorf("coldstart: --runs %d: want at least 1", *runs)}
	}
	if _, err := os.Stat(*rie); err != nil {
		return fmt.Errorf("coldstart: the Runtime Interface Emulator: %w (install it with bash localstack/tools/rie.sh)", err)
	}
	names, err := functionNames("functions")
	if err != nil {
		return err
	}
	if *only != "" {
		var keep []string
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if !slices.Contains(names, n) {
				return usageError{fmt.Errorf("coldstart: --functions: no function %q under functions/ (have %s)", n, strings.Join(names, ", "))}
			}
			keep = append(keep, n)
		}
		names = keep
	}
	key, err := standInKey()
	if err != nil {
		return err
	}
	stand := newStandIns(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("coldstart: listening for the stand-ins: %w", err)
	}
	srv := &http.Server{Handler: stand}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("coldstart: the stand-ins' server stopped", "err", err)
		}
	}()
	defer srv.Close()
	standURL := "http://" + ln.Addr().String()

	targets := []coldstartTarget{{name: helloName, env: map[string]string{}, payload: "{}"}}
	for _, n := range names {
		targets = append(targets, coldstartTarget{name: n, env: functionEnv(n, ln.Addr().(*net.TCPAddr).Port), payload: functionPayload(n)})
	}
	for i := range targets {
		t := &targets[i]
		pkg := "./functions/" + t.name
		if t.name == helloName {
			pkg = "./cmd/pulse-bench/internal/hello"
		}
		t.binary = filepath.Join(*dir, t.name, "bootstrap")
		fmt.Fprintf(os.Stderr, "coldstart: building %s (linux/%s)\n", pkg, runtime.GOARCH)
		if err := buildBootstrap(ctx, pkg, t.binary); err != nil {
			return err
		}
		st, err := os.Stat(t.binary)
		if err != nil {
			return err
		}
		t.size = st.Size()
		t.binary, _ = filepath.Abs(t.binary)
	}
	results := make([][]coldstartRun, len(targets))
	for i, t := range targets {
		for r := 0; r < *runs; r++ {
			env := map[string]string{"AWS_ENDPOINT_URL": standURL}
			for k, v := range t.env {
				env[k] = v
			}
			res, err := coldstartOnce(ctx, *rie, t, env, stand)
			if err != nil {
				return fmt.Errorf("coldstart: %s run %d: %w", t.name, r+1, err)
			}
			fmt.Fprintf(os.Stderr, "coldstart: %-9s run %d/%d: init %.1f ms, first invoke %.1f ms, %d requests at init\n", t.name, r+1, *runs, res.initMs, res.invokeMs, res.initCalls)
			results[i] = append(results[i], res)
		}
	}
	printColdstart(os.Stdout, targets, results)
	return nil
}

// usageError is a bad command line (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// functionNames lists the folders of dir holding a main.go.
func functionNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("coldstart: listing the functions (run from the repository root): %w", err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("coldstart: no functions under %s", dir)
	}
	return names, nil
}

// buildBootstrap builds pkg as infra/build-lambdas.sh does, for this machine's architecture.
func buildBootstrap(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-tags", "lambda.norpc,minicore_disabled", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("coldstart: building %s: %w", pkg, err)
	}
	return nil
}

// functionEnv is the environment infra/stacks gives function name (names and shapes, with
// stand-in values), and the Snowflake host on the stand-ins' port.
func functionEnv(name string, standPort int) map[string]string {
	env := map[string]string{
		"PULSE_FUNCTION":        name,
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
		"AWS_ACCESS_KEY_ID":     "AKIDCOLDSTART",
		"AWS_SECRET_ACCESS_KEY": "coldstart",
		"AWS_SESSION_TOKEN":     "coldstart",
	}
	buckets := func(names ...string) {
		for _, n := range names {
			env["PULSE_"+n+"_BUCKET"] = "pulse-" + strings.ToLower(n)
		}
	}
	snowflake := func() {
		for k, v := range map[string]string{
			"SNOWFLAKE_ACCOUNT": "pulse-coldstart", "SNOWFLAKE_USER": "PULSE_LOADER", "SNOWFLAKE_ROLE": "PULSE_LOADER",
			"SNOWFLAKE_WAREHOUSE": "PULSE_WH", "SNOWFLAKE_DATABASE": "PULSE", "SNOWFLAKE_SCHEMA": "PUBLIC",
			"SNOWFLAKE_STAGE":              "PULSE_STAGE",
			"SNOWFLAKE_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse/snowflake-AbCdEf",
			// The stand-in answers Snowflake's login (not in the template: on AWS the account's host).
			"SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": strconv.Itoa(standPort), "SNOWFLAKE_PROTOCOL": "http",
		} {
			env[k] = v
		}
	}
	switch name {
	case "clean":
		buckets("RAW", "STAGING", "CURATED", "QUARANTINE")
		env["PULSE_DEDUPE_TABLE"] = "pulse-dedupe"
		env["PULSE_CHUNK_BYTES"] = "268435456"
	case "model":
		buckets("RAW", "STAGING", "CURATED", "QUARANTINE")
	case "load", "datatests":
		buckets("RAW", "STAGING", "CURATED", "QUARANTINE")
		snowflake()
	case "gold":
		snowflake()
	case "stream":
		buckets("RAW", "STAGING", "CURATED", "QUARANTINE")
		env["PULSE_DEDUPE_TABLE"] = "pulse-dedupe"
		env["PULSE_STATE_TABLE"] = "pulse-state"
		env["PULSE_DEDUPE_TTL"] = "168h0m0s"
		snowflake()
	case "trigger":
		env["PULSE_BATCH_STATE_MACHINE_ARN"] = "arn:aws:states:us-east-1:123456789012:stateMachine:PulseBatch"
	case "catalog":
		buckets("RAW", "QUARANTINE")
		env["PULSE_MSK_CLUSTER_ARN"] = "arn:aws:kafka:us-east-1:123456789012:cluster/pulse/abcd1234-ab12-cd34-ef56-abcdef123456-1"
		env["PULSE_CATALOG_TOPIC"] = "movies_catalog_enriched"
	}
	return env
}

// functionPayload is a small event that each function handles without harm (an empty batch, or an
// input it rejects).
func functionPayload(name string) string {
	switch name {
	case "trigger":
		return `{"Records":[]}`
	case "stream":
		return `{"eventSource":"aws:kafka","records":{}}`
	}
	return "{}"
}

// rieEvent is one line of the RIE's output that the measure reads.
type rieEvent struct {
	kind string    // "init done", "init report", "invoke done", or "" for other lines
	at   time.Time // the line's timestamp (UTC, millisecond resolution)
	ok   bool      // status: success
	ms   float64   // durationMs / duration
}

// parseRIELine reads lines like
//
//	07 Dec 2026 21:56:39,557 [INFO] (rapid) INIT RTDONE(status: success)
//	07 Dec 2026 21:56:39,557 [INFO] (rapid) INIT REPORT(durationMs: 16.689000)
//	07 Dec 2026 21:56:39,560 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 2.044000ms)
func parseRIELine(line string) rieEvent {
	var ev rieEvent
	if len(line) >= 24 {
		ev.at, _ = time.Parse("02 Jan 2006 15:04:05.000", strings.Replace(line[:24], ",", ".", 1))
	}
	if m := initDoneRe.FindStringSubmatch(line); m != nil {
		ev.kind, ev.ok = "init done", m[1] == "success"
	} else if m := initReportRe.FindStringSubmatch(line); m != nil {
		ev.kind = "init report"
		ev.ms, _ = strconv.ParseFloat(m[1], 64)
	} else if m := invokeDoneRe.FindStringSubmatch(line); m != nil {
		ev.kind, ev.ok = "invoke done", m[1] == "success"
		ev.ms, _ = strconv.ParseFloat(m[2], 64)
	}
	return ev
}

var (
	initReportRe = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)`)
	initDoneRe   = regexp.MustCompile(`INIT RTDONE\(status: (\w+)`)
	invokeDoneRe = regexp.MustCompile(`INVOKE RTDONE\(status: (\w+).*duration: ([0-9.]+)ms`)
)

// coldstartOnce starts the RIE on t's bootstrap with env, invokes it once and reads its report lines.
func coldstartOnce(ctx context.Context, rie string, t coldstartTarget, env map[string]string, stand *standIns) (coldstartRun, error) {
	var res coldstartRun
	ports, err := freePorts(2)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]), t.binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TZ=UTC"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	cmd.Stderr = cmd.Stdout
	stand.reset()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting the RIE: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	var (
		mu       sync.Mutex
		log      bytes.Buffer
		initSeen = make(chan struct{})
		doneSeen = make(chan struct{})
	)
	go func() {
		sc := bufio.NewScanner(out)
		initClosed, doneClosed := false, false
		for sc.Scan() {
			line := sc.Text()
			ev := parseRIELine(line)
			mu.Lock()
			log.WriteString(line + "\n")
			switch {
			case ev.kind == "init done" && !initClosed:
				// Requests up to the end of the millisecond the RIE stamped INIT RTDONE with
				// (the line is read later than it is written on a busy machine).
				res.initPaths = stand.before(ev.at.Add(time.Millisecond))
				res.initCalls = len(res.initPaths)
				res.initOK = ev.ok
			case ev.kind == "init report" && !initClosed:
				res.initMs = ev.ms
				initClosed = true
				close(initSeen)
			case ev.kind == "invoke done" && !doneClosed:
				res.invokeOK, res.invokeMs = ev.ok, ev.ms
				doneClosed = true
				close(doneSeen)
			}
			mu.Unlock()
		}
	}()
	if err := waitListening(ctx, addr); err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/2015-03-31/functions/function/invocations", strings.NewReader(t.payload))
	if err != nil {
		return res, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, fmt.Errorf("invoking: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The function process is the RIE's child; its peak RSS before it is killed.
	res.hwmKiB = childHWM(cmd.Process.Pid)
	select {
	case <-doneSeen:
	case <-initSeen:
		// An init that failed reports no INVOKE RTDONE; give the line a moment.
		select {
		case <-doneSeen:
		case <-time.After(2 * time.Second):
		}
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	res.totalCalls = stand.count()
	if res.initMs == 0 {
		return res, fmt.Errorf("no INIT REPORT line (response %q); the RIE said:\n%s", body, log.String())
	}
	return res, nil
}

// freePorts returns n ports free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitListening(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the RIE never listened on %s: %w", addr, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// childHWM is the VmHWM (KiB) of the first child of pid, 0 when unknown.
func childHWM(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, c := range strings.Fields(string(b)) {
			st, err := os.ReadFile("/proc/" + c + "/status")
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(st), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					return n
				}
			}
		}
	}
	return 0
}

// printColdstart prints the table: per target its size, init min and median, first invoke
// (median), peak RSS, requests at init, and its fastest init over hello world's (the least
// disturbed by other load on the machine).
func printColdstart(w io.Writer, targets []coldstartTarget, results [][]coldstartRun) {
	median := func(v []float64) float64 {
		s := slices.Clone(v)
		sort.Float64s(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	var helloMin float64
	fmt.Fprintf(w, "cold start under the Lambda Runtime Interface Emulator (linux/%s, %d runs each, fresh process per run; endpoints on local stand-ins):\n", runtime.GOARCH, len(results[0]))
	fmt.Fprintf(w, "  %-10s %8s %9s %9s %10s %9s %14s %9s  %s\n", "function", "MB", "init min", "init med", "invoke med", "RSS MB", "init requests", "min/hello", "status")
	for i, t := range targets {
		rs := results[i]
		var inits, invokes []float64
		var hwm int64
		calls, initOK, invokeOK := 0, 0, 0
		var paths []string
		for _, r := range rs {
			inits = append(inits, r.initMs)
			invokes = append(invokes, r.invokeMs)
			hwm = max(hwm, r.hwmKiB)
			calls = max(calls, r.initCalls)
			if r.initOK {
				initOK++
			}
			if r.invokeOK {
				invokeOK++
			}
			for _, p := range r.initPaths {
				if !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}
		}
		med, best := median(inits), slices.Min(inits)
		if t.name == helloName {
			helloMin = best
		}
		ratio := "-"
		if helloMin > 0 {
			ratio = fmt.Sprintf("%.2fx", best/helloMin)
		}
		status := fmt.Sprintf("init ok %d/%d, invoke ok %d/%d", initOK, len(rs), invokeOK, len(rs))
		if len(paths) > 0 {
			status += "; at init: " + strings.Join(paths, ", ")
		}
		fmt.Fprintf(w, "  %-10s %8.1f %9.1f %9.1f %10.1f %9.1f %14d %9s  %s\n", t.name, float64(t.size)/1e6,
			best, med, median(invokes), float64(hwm)/1024, calls, ratio, status)
	}
	var load [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		_, _ = fmt.Sscan(string(b), &load[0], &load[1], &load[2]) // shown as read; an unreadable field stays 0
	}
	fmt.Fprintf(w, "  (init: the RIE's INIT REPORT durationMs; invoke: its first INVOKE RTDONE duration; RSS: the function process's VmHWM after it;\n")
	fmt.Fprintf(w, "   init requests: requests the stand-ins got before INIT RTDONE, most of any run; min/hello: fastest init over hello world's; %s, %d CPUs, load average %.2f %.2f %.2f at the end)\n",
		runtime.Version(), runtime.NumCPU(), load[0], load[1], load[2])
}

// standIns answers every AWS endpoint (AWS_ENDPOINT_URL) and Snowflake's login on one local
// port, and counts the requests: Secrets Manager's GetSecretValue gets the key, Snowflake's login
// a session, every other call a non-retryable "not found" so that nothing waits on retries.
type standIns struct {
	key string // PEM of a fresh RSA key
	mu  sync.Mutex
	got []string    // "secretsmanager.GetSecretValue", "snowflake login", "s3 GET /bucket/key", ...
	at  []time.Time // when each arrived
}

func newStandIns(key string) *standIns { return &standIns{key: key} }

func (s *standIns) reset() {
	s.mu.Lock()
	s.got, s.at = nil, nil
	s.mu.Unlock()
}

func (s *standIns) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// before returns the requests that arrived before t.
func (s *standIns) before(t time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i, at := range s.at {
		if at.Before(t) {
			out = append(out, s.got[i])
		}
	}
	return out
}

var sdkAPIRe = regexp.MustCompile(`api/([A-Za-z0-9]+)`)

func (s *standIns) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	target := r.Header.Get("X-Amz-Target")
	what := target
	var sqlText string
	switch {
	case strings.HasPrefix(r.URL.Path, "/session/v1/login-request"):
		what = "snowflake login"
	case strings.HasPrefix(r.URL.Path, "/queries/"):
		what = "snowflake query"
		var q struct {
			SQLText string `json:"sqlText"`
		}
		_ = json.Unmarshal(body, &q)
		sqlText = strings.TrimSpace(q.SQLText)
	case r.URL.Path == "/session":
		what = "snowflake logout"
	case target == "":
		what = r.Method + " " + r.URL.Path
		if m := sdkAPIRe.FindStringSubmatch(r.UserAgent()); m != nil {
			what = m[1] + " " + what
		}
	}
	s.mu.Lock()
	s.got = append(s.got, what)
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case target == "secretsmanager.GetSecretValue":
		writeJSON(200, map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse/snowflake-AbCdEf",
			"Name": "pulse/snowflake", "SecretString": s.key, "VersionId": "v1"})
	case what == "snowflake login":
		writeJSON(200, map[string]any{"success": true, "data": map[string]any{
			"token": "coldstart-token", "masterToken": "coldstart-master", "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
			"sessionId": 1, "parameters": []map[string]any{{"name": "TIMEZONE", "value": "UTC"}},
			"sessionInfo": map[string]any{"databaseName": "PULSE", "schemaName": "PUBLIC", "warehouseName": "PULSE_WH", "roleName": "PULSE_LOADER"},
		}})
	case what == "snowflake query":
		// A SELECT gets one row "1" (a ping), anything else a status.
		col, typ, val := map[string]any{"name": "status", "type": "text", "nullable": true}, 0x6000, "Statement executed successfully."
		if f := strings.Fields(sqlText); len(f) > 0 && strings.EqualFold(f[0], "SELECT") {
			col, typ, val = map[string]any{"name": "1", "type": "fixed", "scale": 0, "precision": 38, "nullable": true}, 0x1000, "1"
		}
		writeJSON(200, map[string]any{"success": true, "data": map[string]any{
			"parameters": []any{}, "rowtype": []any{col}, "rowset": [][]string{{val}}, "total": 1, "returned": 1,
			"queryId": "coldstart", "statementTypeId": typ, "queryResultFormat": "json",
		}})
	case what == "snowflake logout":
		writeJSON(200, map[string]any{"success": true, "data": nil})
	case target != "":
		writeJSON(400, map[string]any{"__type": "ResourceNotFoundException", "message": "coldstart stand-in"})
	default: // S3 and the REST APIs
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(404)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>coldstart stand-in</Message></Error>`)
	}
}

// standInKey makes the PEM (PKCS#8) the Secrets Manager stand-in returns.
func standInKey() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
