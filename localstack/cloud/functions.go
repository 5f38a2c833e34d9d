package cloud

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Function is one Lambda function of the assembly, run as its asset's
// bootstrap under the Runtime Interface Emulator.
type Function struct {
	Resource *Resource
	Name     string            // physical name
	ARN      string            // local ARN
	Label    string            // PULSE_FUNCTION, else the logical ID
	Env      map[string]string // the template's Environment, resolved
	Dir      string            // the asset folder holding bootstrap
	Timeout  time.Duration
	Memory   int
	Role     *Resource // its execution role
	LogGroup string    // the log group its runtime writes to

	c    *Cloud
	pool chan *instance // idle instances
	sem  chan struct{}  // one token per instance that may exist
	log  io.Writer

	mu          sync.Mutex
	instances   []*instance
	invocations []Invocation
}

// Invocation is one call of a function.
type Invocation struct {
	Function string // Label
	Source   string // who invoked: "s3", "esm:<topic>", "states:<machine>", "events:<rule>", "test"
	Payload  json.RawMessage
	Output   json.RawMessage
	Error    *FunctionError // nil on success
	Took     time.Duration
}

// FunctionError is a function's reported error (the body the runtime
// posted), as Lambda returns it with X-Amz-Function-Error.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// instance is one RIE process (one Lambda execution environment).
type instance struct {
	cmd     *exec.Cmd
	url     string
	rieAddr string
	done    chan struct{}

	streamOnce sync.Once // the log stream is created once per environment
}

// logCalls are the CloudWatch Logs calls Lambda makes with the execution
// role for one invocation: the environment's log stream in the function's
// log group, created on its first invocation, and the invocation's
// START/END/REPORT lines (and whatever the function printed) put to it. The
// local cloud writes the lines to the function's log file; the calls are
// recorded and judged like the function's own.
func (f *Function) logCalls(inst *instance) []Call {
	if f.Role == nil {
		return nil
	}
	stream := "arn:" + f.c.Assembly.Partition + ":logs:" + f.c.Assembly.Region + ":" + f.c.Assembly.Account + ":log-group:" + f.LogGroup +
		":log-stream:" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hash8(inst.rieAddr)
	call := func(action string) Call {
		return Call{Principal: principal(f.Role), Function: f.Label, Action: action, Resource: stream, Implied: "lambda runtime"}
	}
	var calls []Call
	inst.streamOnce.Do(func() { calls = append(calls, call("logs:CreateLogStream")) })
	return append(calls, call("logs:PutLogEvents"))
}

// hostMachine is the ELF machine of this host's binaries.
func hostMachine() elf.Machine {
	switch runtime.GOARCH {
	case "arm64":
		return elf.EM_AARCH64
	case "amd64":
		return elf.EM_X86_64
	}
	return elf.EM_NONE
}

// templateMachine is the ELF machine a function's Architectures names.
func templateMachine(r *Resource) elf.Machine {
	arch := "x86_64" // CloudFormation's default
	if l, ok := r.Properties["Architectures"].([]any); ok && len(l) == 1 {
		arch, _ = l[0].(string)
	}
	if arch == "arm64" {
		return elf.EM_AARCH64
	}
	return elf.EM_X86_64
}

// checkBootstrap checks that the asset's bootstrap is an executable for this
// host and the architecture the template ships.
func checkBootstrap(fn *Resource, path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %s is not a built function (%w): build the bootstraps for this host (PULSE_LAMBDA_ARCH=%s infra/build-lambdas.sh) and synth again",
			fn, path, err, runtime.GOARCH)
	}
	defer f.Close()
	if f.Machine != hostMachine() {
		return fmt.Errorf("%s: %s is built for %s; this host runs %s: build with PULSE_LAMBDA_ARCH=%s and synth with -c lambdaArchitecture=x86_64 or arm64 to match",
			fn, path, f.Machine, hostMachine(), runtime.GOARCH)
	}
	if want := templateMachine(fn); f.Machine != want {
		return fmt.Errorf("%s: the template ships an %s function but its bootstrap is built for %s", fn, want, f.Machine)
	}
	return nil
}

// newFunction reads a function from the assembly.
func (c *Cloud) newFunction(r *Resource) (*Function, error) {
	a := c.Assembly
	f := &Function{Resource: r, c: c}
	var err error
	if f.Name, err = a.Name(r); err != nil {
		return nil, err
	}
	if f.ARN, err = a.ARN(r); err != nil {
		return nil, err
	}
	if f.Env, err = a.Environment(r); err != nil {
		return nil, err
	}
	f.Label = f.Env["PULSE_FUNCTION"]
	if f.Label == "" {
		f.Label = r.ID
	}
	if f.Dir, err = a.AssetDir(r); err != nil {
		return nil, err
	}
	if err := checkBootstrap(r, filepath.Join(f.Dir, "bootstrap")); err != nil {
		return nil, err
	}
	f.Timeout = 3 * time.Second
	if t, ok := r.Properties["Timeout"].(float64); ok {
		f.Timeout = time.Duration(t) * time.Second
	}
	f.Memory = 128
	if m, ok := r.Properties["MemorySize"].(float64); ok {
		f.Memory = int(m)
	}
	roleARN, err := a.String(r.Stack, r.Properties["Role"])
	if err != nil {
		return nil, fmt.Errorf("%s: Role: %w", r, err)
	}
	f.Role = c.roleByARN(roleARN)
	f.LogGroup = "/aws/lambda/" + f.Name
	if lc, ok := r.Properties["LoggingConfig"].(map[string]any); ok && lc["LogGroup"] != nil {
		if f.LogGroup, err = a.String(r.Stack, lc["LogGroup"]); err != nil {
			return nil, fmt.Errorf("%s: LoggingConfig.LogGroup: %w", r, err)
		}
	}
	n := c.opts.Concurrency[f.Label]
	if n <= 0 {
		n = 1
	}
	f.pool = make(chan *instance, n)
	f.sem = make(chan struct{}, n)
	for i := 0; i < n; i++ {
		f.sem <- struct{}{}
	}
	return f, nil
}

// LambdaEnvironment lists the variables the Lambda service itself sets in
// every execution environment (besides the template's Environment): the
// runtime's reserved variables, documented by AWS, with this function's
// values. AWS_LAMBDA_FUNCTION_TIMEOUT is the emulator's way of learning the
// timeout (the service passes a deadline with each invocation instead).
func (f *Function) LambdaEnvironment() map[string]string {
	env := map[string]string{
		"AWS_REGION":                      f.c.Assembly.Region,
		"AWS_DEFAULT_REGION":              f.c.Assembly.Region,
		"AWS_LAMBDA_FUNCTION_NAME":        f.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.Memory),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       f.LogGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hash8(f.Name+time.Now().String()),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(f.Timeout / time.Second)),
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                f.Dir,
		"LAMBDA_RUNTIME_DIR":              f.Dir,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
	if lc, ok := f.Resource.Properties["LoggingConfig"].(map[string]any); ok {
		if lf, _ := lc["LogFormat"].(string); lf != "" {
			env["AWS_LAMBDA_LOG_FORMAT"] = lf
		}
	}
	return env
}

// Environ is the emulator process's environment (which the function sees):
// the template's Environment, the Lambda service's own variables, the
// role's test credentials and the endpoint variables, nothing else.
func (f *Function) Environ() []string {
	env := map[string]string{}
	for k, v := range f.LambdaEnvironment() {
		env[k] = v
	}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range f.c.credentials(f.Role) {
		env[k] = v
	}
	for k, v := range f.c.endpoints() {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + env[k]
	}
	return out
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start launches one emulator process and waits until it listens.
func (f *Function) start(ctx context.Context) (*instance, error) {
	for attempt := 0; ; attempt++ {
		inst, err := f.startOnce(ctx)
		if err == nil || attempt == 2 {
			return inst, err
		}
	}
}

func (f *Function) startOnce(ctx context.Context) (*instance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rieAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(f.c.tools.RIE, "--runtime-interface-emulator-address", addr, "--runtime-api-address", rieAddr, "--log-level", "error",
		filepath.Join(f.Dir, "bootstrap"))
	cmd.Dir = f.Dir
	cmd.Env = f.Environ()
	cmd.Stdout, cmd.Stderr = f.log, f.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s under the emulator: %w", f.Label, err)
	}
	inst := &instance{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", rieAddr: rieAddr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(inst.done) }() // the exit is seen through done; the emulator's output says why
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-inst.done:
			return nil, fmt.Errorf("starting %s under the emulator: it exited (%v); see %s", f.Label, cmd.ProcessState, f.c.logPath(f.Label))
		case <-ctx.Done():
			inst.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			inst.stop()
			return nil, fmt.Errorf("starting %s under the emulator: %s did not listen within 15s", f.Label, addr)
		}
	}
	f.mu.Lock()
	f.instances = append(f.instances, inst)
	f.mu.Unlock()
	return inst, nil
}

func (inst *instance) stop() {
	if inst.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-inst.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
		<-inst.done
	}
}

// get takes an idle instance, or starts one when fewer than the function's
// concurrency exist, or waits for one.
func (f *Function) get(ctx context.Context) (*instance, error) {
	select {
	case inst := <-f.pool:
		return inst, nil
	default:
	}
	select {
	case inst := <-f.pool:
		return inst, nil
	case <-f.sem:
		inst, err := f.start(ctx)
		if err != nil {
			f.sem <- struct{}{}
			return nil, err
		}
		return inst, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// discard ends an instance that can no longer serve (timed out, crashed).
func (f *Function) discard(inst *instance) {
	inst.stop()
	f.mu.Lock()
	for i, x := range f.instances {
		if x == inst {
			f.instances = append(f.instances[:i], f.instances[i+1:]...)
			break
		}
	}
	f.mu.Unlock()
	f.sem <- struct{}{}
}

// Invoke calls the function with payload, synchronously (RequestResponse),
// as the Lambda Invoke API does: the output, or the function's error.
func (f *Function) Invoke(ctx context.Context, source string, payload []byte) (json.RawMessage, error) {
	start := time.Now()
	out, err := f.invoke(ctx, payload)
	inv := Invocation{Function: f.Label, Source: source, Payload: append(json.RawMessage(nil), payload...), Output: out, Took: time.Since(start)}
	var fe *FunctionError
	if errors.As(err, &fe) {
		inv.Error = fe
	} else if err != nil {
		inv.Error = &FunctionError{Type: "Lambda.ServiceException", Message: err.Error()}
	}
	f.mu.Lock()
	f.invocations = append(f.invocations, inv)
	f.mu.Unlock()
	return out, err
}

func (f *Function) invoke(ctx context.Context, payload []byte) (json.RawMessage, error) {
	inst, err := f.get(ctx)
	if err != nil {
		return nil, err
	}
	f.c.record(f.logCalls(inst)...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inst.url, bytes.NewReader(payload))
	if err != nil {
		f.pool <- inst
		return nil, err
	}
	client := &http.Client{Timeout: f.Timeout + 30*time.Second}
	resp, err := client.Do(req)
	if err != nil {
		f.discard(inst)
		return nil, fmt.Errorf("invoking %s: %w", f.Label, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		f.discard(inst)
		return nil, fmt.Errorf("invoking %s: reading the response: %w", f.Label, err)
	}
	select {
	case <-inst.done:
		// The bootstrap or the emulator exited (os.Exit at init, a crash).
		f.discard(inst)
		return nil, &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("%s exited: %s (see %s)", f.Label, strings.TrimSpace(string(body)), f.c.logPath(f.Label))}
	default:
	}
	if resp.StatusCode != http.StatusOK {
		f.discard(inst)
		return nil, &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("%s: the emulator answered %s: %s (see %s)", f.Label, resp.Status, strings.TrimSpace(string(body)), f.c.logPath(f.Label))}
	}
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		f.discard(inst)
		return nil, &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	}
	f.pool <- inst
	if fe := functionError(body); fe != nil {
		return nil, fe
	}
	return json.RawMessage(body), nil
}

// functionError recognizes the error object the runtime posts for a failed
// invocation. The emulator answers it with status 200 and no
// X-Amz-Function-Error header, so the shape decides: an object whose keys
// are errorMessage and errorType (and optionally stackTrace) only.
func functionError(body []byte) *FunctionError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m["errorType"] == nil || m["errorMessage"] == nil {
		return nil
	}
	for k := range m {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return nil
		}
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil {
		return nil
	}
	return &fe
}

// Invocations returns the function's invocations so far, in order.
func (f *Function) Invocations() []Invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Invocation(nil), f.invocations...)
}

// stopAll ends every instance.
func (f *Function) stopAll() {
	f.mu.Lock()
	insts := append([]*instance(nil), f.instances...)
	f.instances = nil
	f.mu.Unlock()
	for _, inst := range insts {
		inst.stop()
	}
}

// ProcessEnvironments returns the environment of each running bootstrap
// process of the function (the emulator's children), read from /proc: what
// the function really sees.
func (f *Function) ProcessEnvironments() ([]map[string]string, error) {
	f.mu.Lock()
	insts := append([]*instance(nil), f.instances...)
	f.mu.Unlock()
	var out []map[string]string
	for _, inst := range insts {
		pids, err := children(inst.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		for _, pid := range pids {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				return nil, fmt.Errorf("reading the environment of %s's bootstrap (pid %d): %w", f.Label, pid, err)
			}
			env := map[string]string{}
			for _, kv := range strings.Split(string(b), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
			out = append(out, env)
		}
	}
	return out, nil
}

// children lists the processes whose parent is pid.
func children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out, nil
}
