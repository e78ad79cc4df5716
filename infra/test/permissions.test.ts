import { STEPS } from '../lib/pipeline-functions';
import { actions, policyOf, render, roleStatements, Statement, synth } from './helpers';

/**
 * Least privilege, statement by statement: each role's whole policy is
 * compared with what its step needs, so an added permission fails a test.
 */

const ARN = 'arn:<AWS::Partition>';
const LOGS = `${ARN}:s3:::acme-access-logs`;
const LOGS_PREFIX = 'logs/123456789012/eu-west-1/acme-data/';
const RESULTS = '<ResultsBucket.Arn>';
const listUnder = (bucket: string, ...prefixes: string[]) =>
  `Allow s3:ListBucket on ${bucket} if ${JSON.stringify({ StringLike: { 's3:prefix': prefixes } })}`;
const logsWrite = (step: string) => `Allow logs:CreateLogStream,logs:PutLogEvents on <${step}LogGroup.Arn>`;

describe('each role may do only what its step needs', () => {
  const { template } = synth();

  test('ComputePeriod: its own logs only', () => {
    expect(policyOf(template, 'ComputePeriodRole')).toEqual([logsWrite('ComputePeriod')]);
  });

  test('StartQuery: the workgroup, the table, reading the logs, writing staging and metadata', () => {
    expect(policyOf(template, 'StartQueryRole')).toEqual(
      [
        `Allow athena:GetQueryExecution,athena:StartQueryExecution,athena:StopQueryExecution on ${ARN}:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<AthenaWorkGroup>`,
        `Allow glue:GetDatabase,glue:GetPartitions,glue:GetTable on ` +
          [
            `${ARN}:glue:<AWS::Region>:<AWS::AccountId>:catalog`,
            `${ARN}:glue:<AWS::Region>:<AWS::AccountId>:database/s3la_access_logs`,
            `${ARN}:glue:<AWS::Region>:<AWS::AccountId>:table/s3la_access_logs/s3_access_logs`,
          ].join(' '),
        `Allow s3:GetBucketLocation on ${RESULTS} ${LOGS}`,
        `Allow s3:GetObject on ${LOGS}/${LOGS_PREFIX}*`,
        listUnder(LOGS, `${LOGS_PREFIX}*`),
        `Allow s3:ListBucketMultipartUploads on ${RESULTS}`,
        listUnder(RESULTS, 's3la/_staging/*', 's3la/_athena/*'),
        `Allow s3:AbortMultipartUpload,s3:GetObject,s3:ListMultipartUploadParts,s3:PutObject on ${RESULTS}/s3la/_athena/* ${RESULTS}/s3la/_staging/*`,
        logsWrite('StartQuery'),
      ].sort(),
    );
  });

  test('QueryStatus: reading query states in the workgroup', () => {
    expect(policyOf(template, 'QueryStatusRole')).toEqual(
      [
        `Allow athena:GetQueryExecution on ${ARN}:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<AthenaWorkGroup>`,
        logsWrite('QueryStatus'),
      ].sort(),
    );
  });

  test('MergeResults: read and write under the results prefix', () => {
    expect(policyOf(template, 'MergeResultsRole')).toEqual(
      [
        listUnder(RESULTS, 's3la/*'),
        `Allow s3:AbortMultipartUpload,s3:DeleteObject,s3:GetObject,s3:PutObject on ${RESULTS}/s3la/*`,
        logsWrite('MergeResults'),
      ].sort(),
    );
  });

  test('RemoveMeta: list and delete under _staging/ and _athena/ only', () => {
    expect(policyOf(template, 'RemoveMetaRole')).toEqual(
      [
        listUnder(RESULTS, 's3la/_staging/*', 's3la/_athena/*'),
        `Allow s3:DeleteObject on ${RESULTS}/s3la/_athena/* ${RESULTS}/s3la/_staging/*`,
        logsWrite('RemoveMeta'),
      ].sort(),
    );
  });

  test('RemoveOriginalLogs with log removal off (the default): no delete permission at all', () => {
    const policy = policyOf(template, 'RemoveOriginalLogsRole');
    expect(policy).toEqual(
      [
        listUnder(RESULTS, 's3la/*'),
        `Allow s3:GetObject,s3:PutObject on ${RESULTS}/s3la/*`,
        listUnder(LOGS, `${LOGS_PREFIX}*`),
        `Allow s3:GetObject on ${LOGS}/${LOGS_PREFIX}*`,
        logsWrite('RemoveOriginalLogs'),
      ].sort(),
    );
    expect(policy.join('\n')).not.toContain('Delete');
  });

  test('RemoveOriginalLogs with log removal on: delete under the logs prefix, and nowhere else', () => {
    const { template: enabled } = synth({ logRemoval: true });
    expect(policyOf(enabled, 'RemoveOriginalLogsRole')).toEqual(
      [
        listUnder(RESULTS, 's3la/*'),
        `Allow s3:GetObject,s3:PutObject on ${RESULTS}/s3la/*`,
        listUnder(LOGS, `${LOGS_PREFIX}*`),
        `Allow s3:GetObject on ${LOGS}/${LOGS_PREFIX}*`,
        `Allow s3:DeleteObject on ${LOGS}/${LOGS_PREFIX}*`,
        logsWrite('RemoveOriginalLogs'),
      ].sort(),
    );
  });

  test('SendReport without email settings: reading the outputs to presign links', () => {
    expect(policyOf(template, 'SendReportRole')).toEqual(
      [`Allow s3:GetObject on ${RESULTS}/s3la/*`, logsWrite('SendReport')].sort(),
    );
  });

  test('SendReport with email: sending from the sender address and its domain', () => {
    const { template: withEmail } = synth({
      fromEmail: 'S3 reports <reports@acme.example>',
      targetEmailAddress: 'ops@acme.example',
    });
    const identity = (name: string) => `${ARN}:ses:<AWS::Region>:<AWS::AccountId>:identity/${name}`;
    expect(policyOf(withEmail, 'SendReportRole')).toEqual(
      [
        `Allow s3:GetObject on ${RESULTS}/s3la/*`,
        `Allow ses:SendEmail,ses:SendRawEmail on ${identity('acme.example')} ${identity('reports@acme.example')}`,
        logsWrite('SendReport'),
      ].sort(),
    );
    // In the SES sandbox the recipients' identities are checked too.
    const { template: sandbox } = synth({
      fromEmail: 'reports@acme.example',
      targetEmailAddress: 'ops@acme.example, FinOps <finops@acme.example>',
      sesSandbox: true,
    });
    expect(policyOf(sandbox, 'SendReportRole')).toContain(
      `Allow ses:SendEmail,ses:SendRawEmail on ${['acme.example', 'finops@acme.example', 'ops@acme.example', 'reports@acme.example'].map(identity).join(' ')}`,
    );
  });

  test('results at the root of an existing bucket: listing the whole bucket, objects anywhere in it', () => {
    const { template: root } = synth({ resultsBucket: 'acme-reports', resultsPrefix: '/' });
    expect(policyOf(root, 'MergeResultsRole')).toEqual(
      [
        `Allow s3:ListBucket on ${ARN}:s3:::acme-reports`,
        `Allow s3:AbortMultipartUpload,s3:DeleteObject,s3:GetObject,s3:PutObject on ${ARN}:s3:::acme-reports/*`,
        logsWrite('MergeResults'),
      ].sort(),
    );
    expect(policyOf(root, 'RemoveMetaRole')).toContain(
      `Allow s3:ListBucket on ${ARN}:s3:::acme-reports if {"StringLike":{"s3:prefix":["_staging/*","_athena/*"]}}`,
    );
  });

  test('the state machine may invoke exactly its seven functions', () => {
    const invoke = roleStatements(template, 'ReportStateMachineRole').filter((s) =>
      actions(s).includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(1);
    expect(actions(invoke[0])).toEqual(['lambda:InvokeFunction']);
    const resources = (invoke[0].Resource as unknown[]).map(render).map((r) => r.replace(/[0-9A-F]{8}\./, '.'));
    expect(resources.sort()).toEqual(Object.keys(STEPS).map((step) => `<${step}Function.Arn>`).sort());
  });

  test('the state machine: log delivery on "*" (no resource-level permissions), its own child executions, nothing else', () => {
    // The MergeShards Distributed Map starts, watches, stops and redrives child executions of
    // this state machine only (Step Functions guide, "IAM policies for using Distributed Map states").
    const states = 'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>';
    expect(policyOf(template, 'ReportStateMachineRole')).toEqual(
      [
        'Allow logs:CreateLogDelivery,logs:DeleteLogDelivery,logs:DescribeLogGroups,logs:DescribeResourcePolicies,' +
          'logs:GetLogDelivery,logs:ListLogDeliveries,logs:PutResourcePolicy,logs:UpdateLogDelivery on *',
        `Allow states:StartExecution on ${states}:stateMachine:S3laTest-Report`,
        'Allow states:DescribeExecution,states:RedriveExecution,states:StopExecution on ' +
          `${states}:execution:S3laTest-Report/* ${states}:execution:S3laTest-Report:*`,
        'Allow lambda:InvokeFunction on ' +
          Object.keys(STEPS)
            .map((step) => `<${step}Function.Arn>`)
            .sort()
            .join(' '),
      ].sort(),
    );
  });

  test('the scheduler may start exactly this state machine (and report to its dead-letter queue)', () => {
    expect(policyOf(template, 'SchedulesRole')).toEqual(
      [
        'Allow states:StartExecution on <ReportStateMachine>',
        'Allow sqs:SendMessage on <SchedulesDeadLetterQueue.Arn>',
      ].sort(),
    );
  });
});

describe('across every role and setting', () => {
  const settings = [
    {},
    { logRemoval: true, tracing: true },
    { logsLayout: 'simple', resultsBucket: 'acme-reports', resultsPrefix: '/' },
    { fromEmail: 'reports@acme.example', targetEmailAddress: 'ops@acme.example', sesSandbox: true },
  ];

  test.each(settings)('no wildcard action, and "*" only for log delivery and X-Ray (%j)', (ctx) => {
    const { template } = synth(ctx);
    const allowedOnStar = new Set([
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ]);
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        expect(s.Effect).toBe('Allow');
        for (const a of actions(s)) expect(a).not.toContain('*');
        const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
        if (resources.includes('*')) {
          for (const a of actions(s)) expect(allowedOnStar).toContain(a);
        }
      }
    }
  });

  test.each(settings)('only RemoveOriginalLogs may delete logs, and only with logRemoval (%j)', (ctx) => {
    const { template } = synth(ctx);
    const logsBucket = ':s3:::acme-access-logs';
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(render);
        if (!resources.some((r) => r.includes(logsBucket))) continue;
        for (const a of actions(s).filter((a) => !['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'].includes(a))) {
          expect(`${id} ${a}`).toMatch(/^RemoveOriginalLogsRoleDefaultPolicy\w* s3:DeleteObject$/);
          expect((ctx as Record<string, unknown>).logRemoval).toBe(true);
        }
      }
    }
  });
});
