package cloud

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed driver.mjs
var driverJS []byte

// StateMachine is one state machine of the assembly, its definition as
// `cdk deploy` ships it (DefinitionString with its tokens resolved), run on
// aws-local-stepfunctions with every Task calling the local cloud.
type StateMachine struct {
	Resource   *Resource
	Name, ARN  string
	Definition json.RawMessage
	Role       *Resource

	mu         sync.Mutex
	executions map[string]*Execution // by name
	order      []string
}

// Execution is one execution of a state machine.
type Execution struct {
	ARN, Name, Machine, Source string
	Input                      string
	Start, Stop                time.Time

	done   chan struct{}
	status string // RUNNING, SUCCEEDED, FAILED
	output json.RawMessage
	err    string
	cause  string
	events []json.RawMessage
}

// Wait blocks until the execution ends.
func (x *Execution) Wait(ctx context.Context) error {
	select {
	case <-x.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result returns the execution's status (RUNNING, SUCCEEDED, FAILED), its
// output and, for a failure, its error and cause.
func (x *Execution) Result() (status string, output json.RawMessage, errName, cause string) {
	select {
	case <-x.done:
		return x.status, x.output, x.err, x.cause
	default:
		return "RUNNING", nil, "", ""
	}
}

// Events returns the execution's event log (aws-local-stepfunctions' events,
// reduced to type, state and error) once it has ended.
func (x *Execution) Events() []json.RawMessage {
	<-x.done
	return x.events
}

func (c *Cloud) loadStateMachines() error {
	a := c.Assembly
	for _, r := range a.Resources("AWS::StepFunctions::StateMachine") {
		sm := &StateMachine{Resource: r, executions: map[string]*Execution{}}
		var err error
		if sm.Name, err = a.Name(r); err != nil {
			return err
		}
		if sm.ARN, err = a.ARN(r); err != nil {
			return err
		}
		def := r.Properties["DefinitionString"]
		if def == nil {
			return fmt.Errorf("%s has no DefinitionString (DefinitionS3Location is not supported)", r)
		}
		text, err := a.String(r.Stack, def)
		if err != nil {
			return fmt.Errorf("%s: DefinitionString: %w", r, err)
		}
		if !json.Valid([]byte(text)) {
			return fmt.Errorf("%s: the resolved definition is not JSON", r)
		}
		sm.Definition = json.RawMessage(text)
		roleARN, err := a.String(r.Stack, r.Properties["RoleArn"])
		if err != nil {
			return fmt.Errorf("%s: RoleArn: %w", r, err)
		}
		sm.Role = c.roleByARN(roleARN)
		c.machines[sm.ARN] = sm
	}
	if len(c.machines) > 0 {
		if err := os.WriteFile(filepath.Join(c.dir, "driver.mjs"), driverJS, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// StateMachine returns the state machine whose construct path starts with
// path (e.g. "PulseBatch/BatchWorkflow"), or nil.
func (c *Cloud) StateMachine(path string) *StateMachine {
	for _, sm := range c.machines {
		if strings.HasPrefix(sm.Resource.Path, path+"/") || sm.Resource.Path == path {
			return sm
		}
	}
	return nil
}

// Executions returns the state machine's executions in start order.
func (sm *StateMachine) Executions() []*Execution {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	out := make([]*Execution, 0, len(sm.order))
	for _, n := range sm.order {
		out = append(out, sm.executions[n])
	}
	return out
}

// sfnError is a Step Functions API error.
type sfnError struct{ code, msg string }

func (e *sfnError) Error() string { return e.code + ": " + e.msg }

// startExecution starts an execution (StartExecution's rules: a name is
// unique per state machine; repeating a running execution's name and input
// returns it, anything else with that name is ExecutionAlreadyExists).
func (c *Cloud) startExecution(machineARN, name, input, source string) (*Execution, error) {
	sm := c.machines[machineARN]
	if sm == nil {
		return nil, &sfnError{"StateMachineDoesNotExist", "State Machine Does Not Exist: '" + machineARN + "'"}
	}
	if input == "" {
		input = "{}"
	}
	if !json.Valid([]byte(input)) {
		return nil, &sfnError{"InvalidExecutionInput", "the input is not JSON"}
	}
	if name == "" {
		name = uuidOf(fmt.Sprint(machineARN, time.Now().UnixNano(), input))
	}
	sm.mu.Lock()
	if x := sm.executions[name]; x != nil {
		sm.mu.Unlock()
		if status, _, _, _ := x.Result(); status == "RUNNING" && x.Input == input {
			return x, nil
		}
		return nil, &sfnError{"ExecutionAlreadyExists", "Execution Already Exists: '" + x.ARN + "'"}
	}
	x := &Execution{ARN: "arn:aws:states:" + c.Assembly.Region + ":" + c.Assembly.Account + ":execution:" + sm.Name + ":" + name,
		Name: name, Machine: sm.ARN, Source: source, Input: input, Start: time.Now(), done: make(chan struct{})}
	sm.executions[name] = x
	sm.order = append(sm.order, name)
	sm.mu.Unlock()
	c.track(func() { c.run(sm, x) })
	return x, nil
}

// run executes one execution with the driver.
func (c *Cloud) run(sm *StateMachine, x *Execution) {
	defer close(x.done)
	defer func() { x.Stop = time.Now() }()
	key := ""
	if sm.Role != nil {
		key = accessKey(sm.Role)
	}
	req, _ := json.Marshal(map[string]any{
		"definition": sm.Definition, "input": json.RawMessage(x.Input), "endpoint": c.edge.url, "caller": key,
		"retryIntervalMs": c.opts.RetryInterval.Milliseconds(), "name": x.Name, "executionArn": x.ARN, "stateMachine": sm.Name,
	})
	cmd := exec.CommandContext(c.ctx, c.tools.Node, filepath.Join(c.dir, "driver.mjs"))
	cmd.Env = append(os.Environ(), "PULSE_SFN_MODULE="+c.tools.SFNModule, "AWS_REGION="+c.Assembly.Region)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		x.status, x.err, x.cause = "FAILED", "States.Runtime", fmt.Sprintf("running %s with aws-local-stepfunctions: %v: %s", sm.Name, err, stderr.String())
		c.log.Warn("cloud: state machine driver failed", "machine", sm.Name, "execution", x.Name, "error", err, "stderr", stderr.String())
		return
	}
	var res struct {
		Status string            `json:"status"`
		Output json.RawMessage   `json:"output"`
		Error  string            `json:"error"`
		Cause  string            `json:"cause"`
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		x.status, x.err, x.cause = "FAILED", "States.Runtime", fmt.Sprintf("decoding the driver's output: %v: %s", err, stderr.String())
		return
	}
	x.status, x.output, x.err, x.cause, x.events = res.Status, res.Output, res.Error, res.Cause, res.Events
}

// --- the Step Functions API ---

func (e *edge) serveStates(w http.ResponseWriter, r *http.Request, p *caller) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	var req struct {
		StateMachineArn string `json:"stateMachineArn"`
		ExecutionArn    string `json:"executionArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		awsError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	res := req.StateMachineArn
	if req.ExecutionArn != "" {
		res = req.ExecutionArn
	}
	if d := e.admit(p.call("states:"+op, res)); d != nil {
		awsError(w, http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch op {
	case "StartExecution":
		x, err := e.c.startExecution(req.StateMachineArn, req.Name, req.Input, "api:"+principal(p.role))
		if se := (*sfnError)(nil); errors.As(err, &se) {
			awsError(w, http.StatusBadRequest, se.code, se.msg)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"executionArn": x.ARN, "startDate": float64(x.Start.UnixMilli()) / 1000})
	case "DescribeExecution":
		x := e.c.execution(req.ExecutionArn)
		if x == nil {
			awsError(w, http.StatusBadRequest, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+req.ExecutionArn+"'")
			return
		}
		status, out, errName, cause := x.Result()
		resp := map[string]any{"executionArn": x.ARN, "stateMachineArn": x.Machine, "name": x.Name, "status": status,
			"startDate": float64(x.Start.UnixMilli()) / 1000, "input": x.Input}
		if status != "RUNNING" {
			resp["stopDate"] = float64(x.Stop.UnixMilli()) / 1000
			if out != nil {
				resp["output"] = string(out)
			}
			if errName != "" {
				resp["error"], resp["cause"] = errName, cause
			}
		}
		json.NewEncoder(w).Encode(resp)
	default:
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "the local cloud answers StartExecution and DescribeExecution, not "+op)
	}
}

// execution finds an execution by ARN.
func (c *Cloud) execution(arn string) *Execution {
	for _, sm := range c.machines {
		sm.mu.Lock()
		for _, x := range sm.executions {
			if x.ARN == arn {
				sm.mu.Unlock()
				return x
			}
		}
		sm.mu.Unlock()
	}
	return nil
}

// StartExecution starts an execution of the state machine at path as a
// caller outside the assembly would (a test, an operator).
func (c *Cloud) StartExecution(path, name, input string) (*Execution, error) {
	sm := c.StateMachine(path)
	if sm == nil {
		var paths []string
		for _, m := range c.machines {
			paths = append(paths, m.Resource.Path)
		}
		sort.Strings(paths)
		return nil, fmt.Errorf("no state machine at %s (have %v)", path, paths)
	}
	c.record(Call{Principal: "test", Action: "states:StartExecution", Resource: sm.ARN})
	return c.startExecution(sm.ARN, name, input, "test")
}
