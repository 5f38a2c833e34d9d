// Runs one execution of a state machine definition with aws-local-stepfunctions (Node 22) and prints
// its outcome as JSON on stdout. Two callers start it and write the request on stdin: the local cloud's
// Step Functions (localstack/cloud/sfn.go) for each StartExecution, and tests/stepfunctions (harness.go),
// whose Go side stands in for the functions (it sends no caller or executionArn):
//
//   {"definition": <ASL>, "input": <execution input>, "endpoint": "http://127.0.0.1:N",
//    "caller": "<access key of the state machine's role>", "retryIntervalMs": 0 (keep the definition's),
//    "name": "<execution name>", "executionArn": "...", "stateMachine": "<name>"}
//
// Every Task state is overridden (taskResourceLocalHandlers) to call the local cloud's AWS endpoint the
// way Step Functions calls AWS, as the state machine's role (header X-Pulse-Caller):
//   - arn:aws:states:::lambda:invoke (what CDK's LambdaInvoke writes): Lambda's Invoke API,
//     POST <endpoint>/2015-03-31/functions/<FunctionName>/invocations with the Payload; the result is
//     {"ExecutedVersion","Payload","StatusCode"}; a function error (X-Amz-Function-Error) fails the state
//     with Error = the function's errorType and Cause = the error payload as JSON text, as on AWS.
//   - arn:aws:lambda:...:function:... (a plain Lambda resource): the same call, the payload is the result.
//   - arn:aws:states:::sns:publish: POST <endpoint>/sns/publish with the Parameters (a local recorder).
// With retryIntervalMs > 0, Retry intervals are shortened to it (the attempts and their order are the
// definition's).
//
// Output: {"status": "SUCCEEDED"|"FAILED", "output", "error", "cause", "events": [...]}.
import { pathToFileURL } from 'node:url';

const modulePath = process.env.PULSE_SFN_MODULE;
if (!modulePath) {
  console.error('PULSE_SFN_MODULE is not set (the path of aws-local-stepfunctions/build/main.node.esm.js)');
  process.exit(2);
}
const { StateMachine } = await import(pathToFileURL(modulePath).href);

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));

// taskStates lists every Task state name with its definition, including those inside Map item
// processors and Parallel branches (state names are unique within a state machine).
function taskStates(def, out = {}) {
  for (const [name, st] of Object.entries(def.States || {})) {
    if (st.Type === 'Task') out[name] = st;
    if (st.Type === 'Map') taskStates(st.ItemProcessor || st.Iterator, out);
    if (st.Type === 'Parallel') for (const b of st.Branches) taskStates(b, out);
  }
  return out;
}

function retryStates(def, out = []) {
  for (const [name, st] of Object.entries(def.States || {})) {
    if (st.Retry) out.push(name);
    if (st.Type === 'Map') retryStates(st.ItemProcessor || st.Iterator, out);
    if (st.Type === 'Parallel') for (const b of st.Branches) retryStates(b, out);
  }
  return out;
}

const headers = { 'X-Pulse-Caller': req.caller ?? '', 'X-Pulse-Source': `states:${req.stateMachine ?? ''}` };

class TaskError extends Error {
  constructor(name, cause) {
    super(cause);
    this.name = name;
  }
}

async function invokeLambda(functionName, payload) {
  const url = `${req.endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(payload ?? null), headers });
  const text = await res.text();
  if (res.status !== 200) {
    // The Lambda service itself failed (unknown function...): Step Functions names it Lambda.<Exception>.
    throw new TaskError('Lambda.ResourceNotFoundException', text);
  }
  const body = text === '' ? null : JSON.parse(text);
  if (res.headers.get('x-amz-function-error')) {
    throw new TaskError(body.errorType, JSON.stringify(body));
  }
  return body;
}

function handlerFor(st) {
  const resource = st.Resource;
  if (resource === 'arn:aws:states:::lambda:invoke') {
    return async (input) => {
      const payload = await invokeLambda(input.FunctionName, input.Payload);
      return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
    };
  }
  if (resource.startsWith('arn:aws:lambda:')) {
    return (input) => invokeLambda(resource, input);
  }
  if (resource === 'arn:aws:states:::sns:publish') {
    return async (input) => {
      const res = await fetch(`${req.endpoint}/sns/publish`, { method: 'POST', body: JSON.stringify(input), headers });
      if (res.status !== 200) throw new TaskError('SNS.InternalErrorException', await res.text());
      return await res.json();
    };
  }
  return () => {
    throw new TaskError('States.Runtime', `no local handler for resource ${resource}`);
  };
}

const taskResourceLocalHandlers = {};
for (const [name, st] of Object.entries(taskStates(req.definition))) {
  taskResourceLocalHandlers[name] = handlerFor(st);
}
const retryIntervalOverrides = {};
if (req.retryIntervalMs > 0) {
  for (const name of retryStates(req.definition)) {
    retryIntervalOverrides[name] = req.retryIntervalMs;
  }
}

const machine = new StateMachine(req.definition);
const execution = machine.run(req.input, {
  overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
  context: {
    Execution: {
      Id: req.executionArn ?? `arn:aws:states:local:000000000000:execution:${req.stateMachine ?? 'StateMachine'}:${req.name ?? 'local'}`,
      Name: req.name ?? 'local',
      Input: req.input,
      StartTime: new Date().toISOString(),
    },
  },
});

const events = [];
const collecting = (async () => {
  for await (const e of execution.eventLogs) {
    const ev = { type: e.type };
    if (e.state) ev.state = e.state.name;
    if (e.parentState) ev.parentState = e.parentState.name;
    if (e.index !== undefined) ev.index = e.index;
    if (e.Error !== undefined) ev.error = e.Error;
    if (e.retry) ev.retry = e.retry;
    events.push(ev);
  }
})();

let out;
try {
  const output = await execution.result;
  out = { status: 'SUCCEEDED', output };
} catch (err) {
  out = { status: 'FAILED', error: err.name, cause: err.message };
  if (err.cause && typeof err.cause === 'object') {
    if (err.cause.name) out.error = err.cause.name;
    if (err.cause.message) out.cause = err.cause.message;
  }
}
await collecting;
out.events = events;
process.stdout.write(JSON.stringify(out));
