// Package stepfunctions executes the state machines that `cdk synth` writes, with
// aws-local-stepfunctions on Node 22, their Task states calling the real Go handlers.
//
// Synth runs the CDK CLI (npm aws-cdk@2) on the repository's app into a directory. Load reads every
// AWS::StepFunctions::StateMachine from the templates there and resolves the CloudFormation tokens of
// its DefinitionString (Fn::Join of strings, Fn::GetAtt and Ref) to stable local ARNs, so the ASL run
// is exactly the one `cdk deploy` would ship (PINS.md's trap). An Invoker serves Lambda's Invoke API
// on 127.0.0.1 and calls, per function ARN, the Go handler registered for that function's name (the
// PULSE_FUNCTION variable of its template), through aws-lambda-go's own handler adapter, as the Lambda
// runtime does; it records every invocation and every SNS publish. Run starts localstack/cloud/driver.mjs (the local cloud's driver, one file for both), which
// overrides each Task state to call the Invoker.
package stepfunctions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Local ARN parts the tokens resolve to.
const (
	Partition = "aws"
	Region    = "local"
	Account   = "000000000000"
)

// Tools are the paths of the Node tools, under the repository's .tools (make tools installs them).
type Tools struct {
	Root      string // the repository root
	Node      string // Node 22
	SFNModule string // aws-local-stepfunctions' ES module build
	CDK       string // the CDK CLI
}

// FindTools locates the tools under root/.tools; a missing one is an error naming `make tools`.
func FindTools(root string) (Tools, error) {
	t := Tools{
		Root:      root,
		Node:      filepath.Join(root, ".tools", "node22", "bin", "node"),
		SFNModule: filepath.Join(root, ".tools", "sfn", "node_modules", "aws-local-stepfunctions", "build", "main.node.esm.js"),
		CDK:       filepath.Join(root, ".tools", "cdk", "node_modules", ".bin", "cdk"),
	}
	for _, p := range []string{t.Node, t.SFNModule, t.CDK} {
		if _, err := os.Stat(p); err != nil {
			return t, fmt.Errorf("%s is missing: run `make tools` (localstack/tools/node.sh, sfn-local.sh, cdk.sh): %w", p, err)
		}
	}
	return t, nil
}

// Synth runs `cdk synth` (the CLI, offline, the app of cdk.json) into out, with the function
// binaries taken from lambdaDir (placeholders will do: nothing runs them) and extra context.
func (t Tools) Synth(ctx context.Context, out, lambdaDir string, context map[string]string) ([]byte, error) {
	args := []string{"synth", "--quiet", "--no-notices", "--no-version-reporting", "--ci", "--output", out}
	keys := make([]string, 0, len(context))
	for k := range context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--context", k+"="+context[k])
	}
	cmd := exec.CommandContext(ctx, t.CDK, args...)
	cmd.Dir = t.Root
	cmd.Env = append(os.Environ(),
		"PULSE_LAMBDA_DIR="+lambdaDir,
		"CDK_DISABLE_CLI_TELEMETRY=1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1",
	)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return outb, fmt.Errorf("cdk synth: %w\n%s", err, outb)
	}
	return outb, nil
}

// StateMachine is one synthesized state machine with its tokens resolved.
type StateMachine struct {
	Stack      string          // stack name, e.g. PulseBatch
	LogicalID  string          // e.g. BatchWorkflowA1B2C3D4
	Definition json.RawMessage // the ASL
	// Functions maps each function ARN the definition names to the function's name
	// (its PULSE_FUNCTION, e.g. "clean").
	Functions map[string]string
	// Topics maps each SNS topic ARN the definition names to the topic's logical ID.
	Topics map[string]string
}

// FunctionARN is the local ARN a function's logical ID resolves to.
func FunctionARN(logicalID string) string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", Partition, Region, Account, logicalID)
}

type template struct {
	Resources map[string]struct {
		Type       string          `json:"Type"`
		Properties json.RawMessage `json:"Properties"`
		Metadata   struct {
			Path string `json:"aws:cdk:path"`
		} `json:"Metadata"`
	} `json:"Resources"`
}

// Load reads the state machines of every template in a cloud assembly directory, keyed by their
// construct path (e.g. "PulseBatch/BatchWorkflow").
func Load(cdkOut string) (map[string]*StateMachine, error) {
	files, err := filepath.Glob(filepath.Join(cdkOut, "*.template.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no templates in %s (%w)", cdkOut, err)
	}
	out := map[string]*StateMachine{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		var t template
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", f, err)
		}
		stack := strings.TrimSuffix(filepath.Base(f), ".template.json")
		for id, r := range t.Resources {
			if r.Type != "AWS::StepFunctions::StateMachine" {
				continue
			}
			sm, err := resolve(t, stack, id, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("%s: state machine %s: %w", stack, id, err)
			}
			path := strings.TrimSuffix(r.Metadata.Path, "/Resource")
			if path == "" {
				return nil, fmt.Errorf("%s: state machine %s has no aws:cdk:path metadata", stack, id)
			}
			out[path] = sm
		}
	}
	return out, nil
}

func resolve(t template, stack, id string, props json.RawMessage) (*StateMachine, error) {
	var p struct {
		DefinitionString json.RawMessage `json:"DefinitionString"`
	}
	if err := json.Unmarshal(props, &p); err != nil {
		return nil, err
	}
	sm := &StateMachine{Stack: stack, LogicalID: id, Functions: map[string]string{}, Topics: map[string]string{}}
	var text string
	if err := json.Unmarshal(p.DefinitionString, &text); err != nil {
		var join struct {
			Join []json.RawMessage `json:"Fn::Join"`
		}
		if err := json.Unmarshal(p.DefinitionString, &join); err != nil || len(join.Join) != 2 {
			return nil, fmt.Errorf("DefinitionString is neither a string nor an Fn::Join: %s", clip(p.DefinitionString))
		}
		var sep string
		var parts []json.RawMessage
		if err := json.Unmarshal(join.Join[0], &sep); err != nil {
			return nil, fmt.Errorf("Fn::Join separator: %w", err)
		}
		if err := json.Unmarshal(join.Join[1], &parts); err != nil {
			return nil, fmt.Errorf("Fn::Join parts: %w", err)
		}
		var sb strings.Builder
		for i, part := range parts {
			if i > 0 {
				sb.WriteString(sep)
			}
			s, err := sm.token(t, part)
			if err != nil {
				return nil, err
			}
			sb.WriteString(s)
		}
		text = sb.String()
	}
	if !json.Valid([]byte(text)) {
		return nil, fmt.Errorf("the resolved definition is not JSON: %s", clip([]byte(text)))
	}
	sm.Definition = json.RawMessage(text)
	return sm, nil
}

// token resolves one part of the definition's Fn::Join.
func (sm *StateMachine) token(t template, part json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(part, &s) == nil {
		return s, nil
	}
	var tok struct {
		Ref    string   `json:"Ref"`
		GetAtt []string `json:"Fn::GetAtt"`
	}
	if err := json.Unmarshal(part, &tok); err != nil {
		return "", fmt.Errorf("unknown token %s", clip(part))
	}
	switch {
	case tok.Ref == "AWS::Partition":
		return Partition, nil
	case tok.Ref == "AWS::Region":
		return Region, nil
	case tok.Ref == "AWS::AccountId":
		return Account, nil
	case tok.Ref == "AWS::URLSuffix":
		return "amazonaws.com", nil
	case tok.Ref != "":
		r, ok := t.Resources[tok.Ref]
		if ok && r.Type == "AWS::SNS::Topic" {
			arn := fmt.Sprintf("arn:%s:sns:%s:%s:%s", Partition, Region, Account, tok.Ref)
			sm.Topics[arn] = tok.Ref
			return arn, nil
		}
		return "", fmt.Errorf("Ref to %s (%s) has no local value", tok.Ref, r.Type)
	case len(tok.GetAtt) == 2 && tok.GetAtt[1] == "Arn":
		r, ok := t.Resources[tok.GetAtt[0]]
		if !ok || r.Type != "AWS::Lambda::Function" {
			return "", fmt.Errorf("Fn::GetAtt %v is not a function's ARN", tok.GetAtt)
		}
		var fp struct {
			Environment struct {
				Variables map[string]json.RawMessage `json:"Variables"`
			} `json:"Environment"`
		}
		if err := json.Unmarshal(r.Properties, &fp); err != nil {
			return "", fmt.Errorf("function %s: %w", tok.GetAtt[0], err)
		}
		var name string
		if err := json.Unmarshal(fp.Environment.Variables["PULSE_FUNCTION"], &name); err != nil || name == "" {
			return "", fmt.Errorf("function %s has no PULSE_FUNCTION", tok.GetAtt[0])
		}
		arn := FunctionARN(tok.GetAtt[0])
		sm.Functions[arn] = name
		return arn, nil
	}
	return "", fmt.Errorf("unknown token %s", clip(part))
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Invocation is one call the Invoker served.
type Invocation struct {
	Function  string // the function's name (PULSE_FUNCTION)
	Payload   json.RawMessage
	ErrorType string // "" on success
	Error     string
}

// Publish is one SNS publish the Invoker recorded. Message is the text SNS would deliver (Step
// Functions serializes a JSON object Message to a string).
type Publish struct {
	TopicArn string
	Subject  string
	Message  string
}

// Invoker serves Lambda's Invoke API (and an SNS publish recorder) for the driver.
type Invoker struct {
	URL string

	srv       *http.Server
	mu        sync.Mutex
	functions map[string]lambda.Handler // by function name
	arns      map[string]string         // function ARN -> name
	calls     []Invocation
	publishes []Publish
}

// NewInvoker starts an Invoker on 127.0.0.1 with handlers by function name (each a value
// lambda.NewHandler accepts, as lambda.Start would get it). Close stops it.
func NewInvoker(functions map[string]any) (*Invoker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the invoke endpoint: %w", err)
	}
	inv := &Invoker{URL: "http://" + ln.Addr().String(), functions: map[string]lambda.Handler{}, arns: map[string]string{}}
	for name, h := range functions {
		inv.functions[name] = lambda.NewHandler(h)
	}
	inv.srv = &http.Server{Handler: inv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := inv.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("stepfunctions: the invoke server stopped", "err", err)
		}
	}()
	return inv, nil
}

// Close stops the endpoint.
func (inv *Invoker) Close() error { return inv.srv.Close() }

// Learn records which function each ARN of a state machine names.
func (inv *Invoker) Learn(sm *StateMachine) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for arn, name := range sm.Functions {
		inv.arns[arn] = name
	}
}

// Calls returns the invocations so far, in order; with a name, only that function's.
func (inv *Invoker) Calls(function string) []Invocation {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	var out []Invocation
	for _, c := range inv.calls {
		if function == "" || c.Function == function {
			out = append(out, c)
		}
	}
	return out
}

// Publishes returns the SNS publishes so far.
func (inv *Invoker) Publishes() []Publish {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return append([]Publish(nil), inv.publishes...)
}

func (inv *Invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/sns/publish" {
		var in struct {
			TopicArn string          `json:"TopicArn"`
			Subject  string          `json:"Subject"`
			Message  json.RawMessage `json:"Message"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.TopicArn == "" || len(in.Message) == 0 {
			http.Error(w, fmt.Sprintf("sns publish needs TopicArn and Message: %v", err), http.StatusBadRequest)
			return
		}
		p := Publish{TopicArn: in.TopicArn, Subject: in.Subject, Message: string(in.Message)}
		var text string
		if json.Unmarshal(in.Message, &text) == nil {
			p.Message = text
		}
		inv.mu.Lock()
		inv.publishes = append(inv.publishes, p)
		n := len(inv.publishes)
		inv.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"MessageId": fmt.Sprintf("local-%d", n)})
		return
	}
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) {
		http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	arn, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), prefix), suffix))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inv.mu.Lock()
	name, known := inv.arns[arn]
	h := inv.functions[name]
	inv.mu.Unlock()
	if !known || h == nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": "Function not found: " + arn + " (function " + name + " has no Go handler)"})
		return
	}
	out, err := h.Invoke(r.Context(), body)
	call := Invocation{Function: name, Payload: json.RawMessage(body)}
	if err != nil {
		call.ErrorType, call.Error = lambdaError(err)
	}
	inv.mu.Lock()
	inv.calls = append(inv.calls, call)
	inv.mu.Unlock()
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		json.NewEncoder(w).Encode(map[string]any{"errorType": call.ErrorType, "errorMessage": call.Error, "trace": []string{}})
		return
	}
	w.Write(out)
}

// lambdaError is the errorType and errorMessage the Lambda runtime reports for err (aws-lambda-go's
// rule: an InvokeResponse_Error as it is, else the Go type's name and err.Error()).
func lambdaError(err error) (typ, msg string) {
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		return ie.Type, ie.Message
	}
	t := fmt.Sprintf("%T", err)
	return t[strings.LastIndex(t, ".")+1:], err.Error()
}

// Event is one entry of the execution's event log.
type Event struct {
	Type        string          `json:"type"`
	State       string          `json:"state"`
	ParentState string          `json:"parentState"`
	Index       *int            `json:"index"`
	Error       string          `json:"error"`
	Retry       json.RawMessage `json:"retry"`
}

// Result is one execution's outcome.
type Result struct {
	Status string          `json:"status"` // SUCCEEDED or FAILED
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
	Events []Event         `json:"events"`
}

// Count returns how many events of a type concern state.
func (r *Result) Count(typ, state string) int {
	n := 0
	for _, e := range r.Events {
		if e.Type == typ && e.State == state {
			n++
		}
	}
	return n
}

// Run executes definition once on input with driver.mjs, the Task states calling inv.
func (t Tools) Run(ctx context.Context, inv *Invoker, sm *StateMachine, definition json.RawMessage, name string, input any) (*Result, error) {
	inv.Learn(sm)
	in, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("encoding the execution input: %w", err)
	}
	req, err := json.Marshal(map[string]any{
		"definition": definition, "input": json.RawMessage(in), "endpoint": inv.URL,
		"retryIntervalMs": 5, "name": name, "stateMachine": sm.LogicalID,
	})
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, t.Node, filepath.Join(t.Root, "localstack", "cloud", "driver.mjs"))
	cmd.Env = append(os.Environ(), "PULSE_SFN_MODULE="+t.SFNModule, "AWS_REGION=us-east-1")
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running %s with aws-local-stepfunctions: %w\n%s", sm.Stack+"/"+sm.LogicalID, err, stderr.String())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("decoding the driver's output %q: %w\n%s", clip(stdout.Bytes()), err, stderr.String())
	}
	return &res, nil
}
