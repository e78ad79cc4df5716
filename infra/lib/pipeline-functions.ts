import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

/** The workspace manifest: cargo-lambda builds each step's binary from it by name. */
export const CARGO_MANIFEST = path.join(__dirname, '..', '..', 'Cargo.toml');

/**
 * The state machine's Task states, each with its binary (lambdas/Cargo.toml)
 * and the definition's substitution for its ARN (`${<State>FunctionArn}`).
 * A copy of the step catalog (shared/src/steps/catalog.rs), kept equal to it
 * by lambdas/tests/catalog_agrees.rs.
 */
export const STEPS = {
  ComputePeriod: 'compute-period',
  StartQuery: 'start-query',
  QueryStatus: 'query-status',
  MergeResults: 'merge-results',
  MergeShard: 'merge-shard',
  AssembleResults: 'assemble-results',
  RemoveMeta: 'remove-meta',
  RemoveOriginalLogs: 'remove-original-logs',
  SendReport: 'send-report',
} as const;
export type Step = keyof typeof STEPS;

export interface PipelineFunctionProps {
  readonly step: Step;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
  readonly tracing: boolean;
  readonly layers?: lambda.ILayerVersion[];
}

/**
 * One step's Lambda: the Rust binary (arm64, provided.al2023), its own role
 * with no managed policy (the stack adds exactly what the step needs), and its
 * own log group with a retention.
 */
export class PipelineFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `S3 Logs Analyzer ${props.step}: only what this step needs`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs on every log group): this function's group only.
    this.logGroup.grantWrite(this.role);

    this.fn = new RustFunction(this, 'Function', {
      manifestPath: CARGO_MANIFEST,
      binaryName: STEPS[props.step],
      runtime: 'provided.al2023',
      architecture: lambda.Architecture.ARM_64,
      bundling: { architecture: lambda.Architecture.ARM_64 },
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      environment: props.environment,
      layers: props.layers,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
    });
    if (props.tracing) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray tracing (enabled by -c tracing=true): xray:PutTraceSegments and xray:PutTelemetryRecords ' +
          'have no resource-level permissions, so CDK grants them on "*".',
      );
    }
  }
}
