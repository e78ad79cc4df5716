import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfigError, HISTORY_EVENTS_FIXED, HISTORY_EVENTS_PER_POLL } from '../lib/config';
import { DEFINITION_FILE, placeholders, ReportStateMachine } from '../lib/report-state-machine';
import { Step, STEPS } from '../lib/pipeline-functions';
import { render, synth } from './helpers';

/**
 * Builds ReportStateMachines (one stack, each its own id) from `text` written
 * as the definition file, on the steps' functions imported by ARN.
 */
function builder(text: string) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's3la-def-')), 'def.asl.json');
  fs.writeFileSync(file, text);
  const stack = new Stack();
  const functions = Object.fromEntries(
    Object.keys(STEPS).map((step) => [
      step,
      lambda.Function.fromFunctionArn(stack, step, `arn:aws:lambda:eu-west-1:123456789012:function:${step}`),
    ]),
  ) as Record<Step, lambda.IFunction>;
  return (id: string, queryWaitSeconds: number, queryMaxPolls: number) =>
    new ReportStateMachine(stack, id, {
      definitionFile: file,
      functions,
      queryWaitSeconds,
      queryMaxPolls,
      mergeConcurrency: 40,
      logRetentionDays: 90,
      tracing: false,
    });
}

/**
 * The deployed definition is the file `s3la run` executes, with every
 * `${...}` placeholder given a value by DefinitionSubstitutions.
 */
describe('the state machine definition', () => {
  const { template } = synth();
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
  // A plain string here; render() also covers an Fn::Join should CDK ever produce one.
  const deployed = render(sm.Properties.DefinitionString);
  const substitutions: Record<string, unknown> = sm.Properties.DefinitionSubstitutions;

  test('is the file, as written', () => {
    expect(deployed).toBe(fs.readFileSync(DEFINITION_FILE, 'utf8'));
  });

  test('every placeholder has a substitution, and every substitution a placeholder', () => {
    const used = placeholders(deployed);
    expect(used.length).toBeGreaterThan(0);
    const missing = used.filter((name) => !(name in substitutions));
    expect(missing).toEqual([]);
    expect(Object.keys(substitutions).sort()).toEqual([...used].sort());
  });

  test('one ARN placeholder per step, each the ARN of that step\'s function', () => {
    for (const step of Object.keys(STEPS)) {
      expect(render(substitutions[`${step}FunctionArn`])).toMatch(new RegExp(`^<${step}Function[0-9A-F]{8}\\.Arn>$`));
    }
    expect(substitutions.QueryWaitSeconds).toBe('10');
    expect(substitutions.QueryMaxPolls).toBe('360');
    expect(substitutions.MergeConcurrency).toBe('40');
  });

  test('after substitution it is JSON whose every Task runs one of the functions', () => {
    const values = Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, render(v)]));
    const substituted = deployed.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => values[name]);
    expect(substituted).not.toMatch(/\$\{/);
    const definition = JSON.parse(substituted);
    const tasks: string[] = [];
    type States = Record<
      string,
      { Type: string; Resource?: string; Branches?: Array<{ States: States }>; ItemProcessor?: { States: States } }
    >;
    const walk = (states: States) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') tasks.push(state.Resource!);
        for (const branch of state.Branches ?? []) walk(branch.States);
        if (state.ItemProcessor) walk(state.ItemProcessor.States);
      }
    };
    walk(definition.States);
    expect(tasks.length).toBe(Object.keys(STEPS).length);
    expect(tasks.map((t) => t.replace(/[0-9A-F]{8}\.Arn/, '.Arn')).sort()).toEqual(
      Object.keys(STEPS).map((step) => `<${step}Function.Arn>`).sort(),
    );
    expect(definition.States.LoadSettings.Parameters).toEqual({
      'waitSeconds.$': "States.StringToJson('10')",
      'maxPolls.$': "States.StringToJson('360')",
      'mergeConcurrency.$': "States.StringToJson('40')",
    });
  });

  test('finds placeholders as Step Functions substitutes them', () => {
    expect(placeholders('{"a": "${A}", "b": "x${B_2}y ${A}", "c": "$$.Execution.Name", "d": "{}"}')).toEqual(['A', 'B_2']);
  });

  test('a placeholder the stack does not know stops the synth, naming it', () => {
    const build = builder(fs.readFileSync(DEFINITION_FILE, 'utf8').replace('${QueryMaxPolls}', '${QueryMaxPollz}'));
    expect(() => build('Report', 10, 360)).toThrow('uses ${QueryMaxPollz}, which the stack does not substitute');
  });

  test("the history events per status poll and outside the loop, as config.ts's limits count them", () => {
    interface State {
      Type: string;
      Next?: string;
      Default?: string;
      Retry?: Array<{ MaxAttempts?: number }>;
      Branches?: Array<{ States: Record<string, State> }>;
    }
    const states: Record<string, State> = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')).States;
    // Entered/Exited for every state; a Task also Scheduled, Started, Succeeded (or Failed);
    // a Parallel also Started and Succeeded around its branches; a Distributed Map MapRunStarted
    // and MapRunSucceeded (or Failed), its iterations being child executions with their own histories.
    const own: Record<string, number> = {
      Task: 5, Pass: 2, Choice: 2, Wait: 2, Succeed: 2, Fail: 1, Parallel: 4, Map: 4,
    };
    const retries = (s: State) => 3 * (s.Retry ?? []).reduce((n, r) => n + (r.MaxAttempts ?? 3), 0);
    const events = (s: State, withRetries: boolean): number =>
      own[s.Type] +
      (withRetries ? retries(s) : 0) +
      (s.Branches ?? []).reduce(
        (n, b) => n + Object.values(b.States).reduce((m, t) => m + events(t, withRetries), 0),
        0,
      );

    // The loop: from WaitForQuery along Next to the Choice whose Default waits again.
    const loop: string[] = [];
    for (let name: string | undefined = 'WaitForQuery'; name !== undefined && !loop.includes(name); ) {
      loop.push(name);
      name = states[name].Next;
    }
    const last = states[loop[loop.length - 1]];
    expect([last.Type, last.Default]).toEqual(['Choice', 'WaitForQuery']);
    expect(loop.map((n) => states[n].Type)).toEqual(['Wait', 'Task', 'Pass', 'Choice']);
    expect(loop.reduce((n, name) => n + events(states[name], false), 0)).toBe(HISTORY_EVENTS_PER_POLL);

    // Outside it, every state once (an upper bound: alternatives are counted both), retries used,
    // ExecutionStarted and the execution's end.
    const outside = Object.entries(states)
      .filter(([name]) => !loop.includes(name))
      .reduce((n, [, state]) => n + events(state, true), 2);
    expect(outside).toBeLessThanOrEqual(HISTORY_EVENTS_FIXED);
  });

  test('polls that outlast a timeout of the definition stop the synth, naming the settings', () => {
    const definition = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8'));
    const build = builder(JSON.stringify({ ...definition, TimeoutSeconds: 3600 }, null, 2));
    expect(() => build('Fits', 10, 300)).not.toThrow();
    expect(() => build('TooLong', 10, 360)).toThrow(ConfigError);
    expect(() => build('TooLong2', 10, 360)).toThrow(
      'context queryMaxPolls: 360 polls 10 s apart (queryWaitSeconds) wait 3600 s, which is not less than the ' +
        "state machine's TimeoutSeconds, 3600",
    );
  });
});
