import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DEFINITION_FILE, placeholders, ReportStateMachine } from '../lib/report-state-machine';
import { Step, STEPS } from '../lib/pipeline-functions';
import { render, synth } from './helpers';

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
  });

  test('after substitution it is JSON whose every Task runs one of the functions', () => {
    const values = Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, render(v)]));
    const substituted = deployed.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => values[name]);
    expect(substituted).not.toMatch(/\$\{/);
    const definition = JSON.parse(substituted);
    const tasks: string[] = [];
    const walk = (states: Record<string, { Type: string; Resource?: string; Branches?: Array<{ States: Record<string, never> }> }>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') tasks.push(state.Resource!);
        for (const branch of state.Branches ?? []) walk(branch.States);
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
    });
  });

  test('finds placeholders as Step Functions substitutes them', () => {
    expect(placeholders('{"a": "${A}", "b": "x${B_2}y ${A}", "c": "$$.Execution.Name", "d": "{}"}')).toEqual(['A', 'B_2']);
  });

  test('a placeholder the stack does not know stops the synth, naming it', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's3la-def-')), 'def.asl.json');
    fs.writeFileSync(file, fs.readFileSync(DEFINITION_FILE, 'utf8').replace('${QueryMaxPolls}', '${QueryMaxPollz}'));
    const stack = new Stack();
    const functions = Object.fromEntries(
      Object.keys(STEPS).map((step) => [
        step,
        lambda.Function.fromFunctionArn(stack, step, `arn:aws:lambda:eu-west-1:123456789012:function:${step}`),
      ]),
    ) as Record<Step, lambda.IFunction>;
    expect(
      () =>
        new ReportStateMachine(stack, 'Report', {
          definitionFile: file,
          functions,
          queryWaitSeconds: 10,
          queryMaxPolls: 360,
          logRetentionDays: 90,
          tracing: false,
        }),
    ).toThrow('uses ${QueryMaxPollz}, which the stack does not substitute');
  });
});
