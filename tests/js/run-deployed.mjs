// Runs the definition as deployed (the synthesized template's DefinitionString
// with its substitutions applied) with aws-local-stepfunctions. Each Task calls
// the Lambda function its Resource names through the Lambda Invoke API that the
// test serves on 127.0.0.1 (POST /2015-03-31/functions/ARN/invocations), as
// Step Functions calls Lambda: a function error becomes the Task's error named
// by its errorType with the error payload as the cause; a Lambda service error
// becomes Lambda.<ErrorType>. Retry intervals and the status wait are 0.
// Prints {"status", "output" | "error", "cause", "states"} as JSON.
//
// usage: node run-deployed.mjs DEFINITION LAMBDA_URL NAME START_TIME REDRIVE_COUNT INPUT_JSON
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { StepError, outcome } from './outcome.mjs';

const [definitionPath, lambdaUrl, name, startTime, redriveCount, inputJson] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(definitionPath, 'utf8'));

function invoke(arn) {
  return async (input) => {
    const r = await fetch(`${lambdaUrl}/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`,
      { method: 'POST', body: JSON.stringify(input) });
    const body = await r.text();
    if (r.status !== 200) {
      const type = r.headers.get('x-amzn-errortype') || 'ServiceException';
      throw new StepError(`Lambda.${type}`, body);
    }
    if (r.headers.get('x-amz-function-error')) {
      const payload = JSON.parse(body);
      throw new StepError(payload.errorType || 'Lambda.Unknown', body);
    }
    return JSON.parse(body);
  };
}

// Every Task, at any depth (the Parallel's branches, the Map's processor), by name.
const handlers = {};
const retries = {};
function walk(states) {
  for (const [stateName, state] of Object.entries(states)) {
    if (state.Type === 'Task') handlers[stateName] = invoke(state.Resource);
    if (state.Retry) retries[stateName] = 0;
    for (const branch of state.Branches || []) walk(branch.States);
    if (state.ItemProcessor) walk(state.ItemProcessor.States);
  }
}
walk(definition.States);
const waits = {};
for (const [stateName, state] of Object.entries(definition.States)) {
  if (state.Type === 'Wait') waits[stateName] = 0;
}

// aws-local-stepfunctions sets $$.Execution.StartTime from the clock, whatever the
// context says: run the execution on a clock that starts at START_TIME, as a
// schedule firing then would.
const RealDate = Date;
const offset = RealDate.parse(startTime) - RealDate.now();
globalThis.Date = class extends RealDate {
  constructor(...args) { super(...(args.length ? args : [RealDate.now() + offset])); }
  static now() { return RealDate.now() + offset; }
};

const input = JSON.parse(inputJson);
const machine = new StateMachine(definition, { validationOptions: { checkArn: true } });
const execution = machine.run(input, {
  overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits,
    retryIntervalOverrides: retries },
  context: {
    Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:s3la:${name}`, Name: name,
      StartTime: startTime, Input: input, RedriveCount: Number(redriveCount) },
    StateMachine: { Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:s3la', Name: 's3la' },
  },
});
const states = [];
const retried = [];
const report = await outcome(execution, (e) => {
  if (e.type === 'StateEntered') states.push(e.state.name);
  if (e.type === 'StateRetried') retried.push(e.state.name);
});
report.states = states;
report.retried = retried;
console.log(JSON.stringify(report));
