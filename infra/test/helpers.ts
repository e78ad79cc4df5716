import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContextKey, loadConfig } from '../lib/config';
import { S3laStack } from '../lib/s3la-stack';

/** A realistic deployment: date-based logs of one bucket, results in a created bucket. */
export const BASE_CONTEXT: Partial<Record<ContextKey, unknown>> = {
  logsBucket: 'acme-access-logs',
  logsPrefix: 'logs/123456789012/eu-west-1/acme-data/',
};

export interface Synthesized {
  readonly app: App;
  readonly stack: S3laStack;
  readonly template: Template;
}

/** Synthesizes the stack with `context` over BASE_CONTEXT, never building the Lambdas. */
export function synth(context: Partial<Record<ContextKey, unknown>> = {}): Synthesized {
  // No stack is bundled: the Rust functions are not built (no cargo, no cargo-lambda).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const merged: Partial<Record<ContextKey, unknown>> = { ...BASE_CONTEXT, ...context };
  const config = loadConfig((key) => merged[key]);
  const stack = new S3laStack(app, 'S3laTest', { config });
  return { app, stack, template: Template.fromStack(stack) };
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Logical ID of the one resource of `type` whose ID starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`${type} ${prefix}*: found ${ids.length}: ${ids.join(', ')}`);
  return ids[0];
}

/** Every statement of the inline policies attached to the role whose ID starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const role = logicalId(template, 'AWS::IAM::Role', rolePrefix);
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = policy.Properties.Roles as Array<{ Ref: string }>;
    if (roles.some((r) => r.Ref === role)) {
      statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
    }
  }
  return statements;
}

/** A statement's actions, sorted. */
export function actions(s: Statement): string[] {
  return (Array.isArray(s.Action) ? s.Action : [s.Action]).slice().sort();
}

/** A CloudFormation value rendered as text, references as `<Logical.Attr>` / `<Ref>`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  const o = value as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (o.Ref) return `<${o.Ref as string}>`;
  if (o['Fn::Sub']) return render(o['Fn::Sub']);
  return JSON.stringify(value);
}

/** Each statement as "actions on resources [if condition]", for whole-policy comparisons. */
export function describe(statements: Statement[]): string[] {
  return statements
    .map((s) => {
      const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(render).sort();
      const condition = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : '';
      return `${s.Effect} ${actions(s).join(',')} on ${resources.join(' ')}${condition}`;
    })
    .sort();
}

/**
 * A role's whole policy as sorted lines, with logical IDs losing their hash suffix
 * (`<ResultsBucket.Arn>`) to keep expectations readable.
 */
export function policyOf(template: Template, rolePrefix: string): string[] {
  return describe(roleStatements(template, rolePrefix)).map((line) =>
    line.replace(/<([A-Za-z]+?)[0-9A-F]{8}(\.[A-Za-z]+)?>/g, '<$1$2>'),
  );
}
