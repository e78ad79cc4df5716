// Runs the state-machine definition with aws-local-stepfunctions, an
// executor independent of ours, with each Task calling our step through
// `s3la invoke STEP --logs DIR --results DIR` (the same handlers the Lambdas
// run). Prints {"status", "output" | "error", "cause", "states"} as JSON.
//
// usage: node run-definition.mjs DEFINITION S3LA LOGS RESULTS NAME START_TIME INPUT_JSON
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { StateMachine } from 'aws-local-stepfunctions';
import { StepError, outcome } from './outcome.mjs';

const [definitionPath, s3la, logs, results, name, startTime, inputJson] = process.argv.slice(2);
const arn = (step) => `arn:aws:lambda:local:000000000000:function:s3la-${step}`;
let text = readFileSync(definitionPath, 'utf8');
// The steps are the definition's own `${<Step>FunctionArn}` placeholders.
const steps = [...new Set([...text.matchAll(/\$\{([A-Za-z]+)FunctionArn\}/g)].map((m) => m[1]))];
for (const step of steps) text = text.replaceAll(`\${${step}FunctionArn}`, arn(step));
text = text.replaceAll('${QueryWaitSeconds}', '1').replaceAll('${QueryMaxPolls}', '3600')
  .replaceAll('${MergeConcurrency}', '4');
const definition = JSON.parse(text);

function invoke(step) {
  return (input) => {
    const p = spawnSync(s3la, ['invoke', step, '--input', '-', '--logs', logs, '--results', results],
      { input: JSON.stringify(input), encoding: 'utf8' });
    if (p.status === 0) return JSON.parse(p.stdout);
    const m = /^error: ([A-Za-z.]+): ([\s\S]*)$/.exec(p.stderr.trim());
    if (!m) throw new StepError('States.TaskFailed', p.stderr);
    // As Lambda reports it: the payload is the cause.
    throw new StepError(m[1], JSON.stringify({ errorType: m[1], errorMessage: m[2] }));
  };
}

// Tasks inside the Parallel's branches and the Map's processor have the same names at every depth.
const handlers = {};
for (const step of steps) handlers[step] = invoke(step);

const input = JSON.parse(inputJson);
const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
const execution = machine.run(input, {
  overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: { WaitForQuery: 0 } },
  context: {
    Execution: { Id: `local:s3la:${name}`, Name: name, StartTime: startTime, Input: input, RedriveCount: 0 },
    StateMachine: { Id: 'local:s3la', Name: 's3la' },
  },
});
const states = [];
const report = await outcome(execution, (e) => {
  if (e.type === 'StateEntered' && e.index === undefined) states.push(e.state.name);
});
report.states = states;
console.log(JSON.stringify(report));
