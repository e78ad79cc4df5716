import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { GEOIP_DB_PATH } from '../lib/geoip-layer';
import { STEPS } from '../lib/pipeline-functions';
import { logicalId, render, synth } from './helpers';

const LOGS_URI = 's3://acme-access-logs/logs/123456789012/eu-west-1/acme-data/';

describe('the stack with default settings', () => {
  const { stack, template } = synth();

  test('the results bucket: encrypted, private, TLS only, lifecycle for uploads, staging and metadata', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            { Id: 'AbortIncompleteMultipartUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
            { Id: 'ExpireStaging', Prefix: 's3la/_staging/', ExpirationInDays: 7, Status: 'Enabled' },
            { Id: 'ExpireAthenaMetadata', Prefix: 's3la/_athena/', ExpirationInDays: 7, Status: 'Enabled' },
          ],
        },
      },
    });
    // enforceSSL: a bucket policy denies any request without TLS.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the Athena workgroup: engine 3, enforced settings, results under the prefix, a scan cutoff', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 's3la',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1024 ** 4,
        ResultConfiguration: {
          OutputLocation: {
            'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^ResultsBucket') }, '/s3la/_athena/']],
          },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  test('one arm64 provided.al2023 function per step, built from the workspace', () => {
    template.resourceCountIs('AWS::Lambda::Function', Object.keys(STEPS).length);
    for (const step of Object.keys(STEPS)) {
      const id = logicalId(template, 'AWS::Lambda::Function', `${step}Function`);
      const fn = template.toJSON().Resources[id];
      expect(fn.Properties).toMatchObject({
        Runtime: 'provided.al2023',
        Handler: 'bootstrap',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${step}Role`)), 'Arn'] },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(new RegExp(`^${step}LogGroup`)) } },
      });
    }
    // Each binary is built by name from the workspace manifest at the repository root.
    const binaries = stack.node
      .findAll()
      .filter((c) => c.constructor.name === 'RustFunction')
      .map((c) => c.node.scope!.node.id);
    expect(binaries.sort()).toEqual(Object.keys(STEPS).sort());
  });

  test('each function has exactly the settings its step reads (shared/src/config.rs)', () => {
    const env = (step: string) =>
      template.toJSON().Resources[logicalId(template, 'AWS::Lambda::Function', `${step}Function`)].Properties
        .Environment?.Variables ?? {};
    const layout = { S3_LOGS_LAYOUT: 'date-based', PROJECTION_START: '2020-01-01' };
    expect(env('ComputePeriod')).toEqual(layout);
    expect(env('StartQuery')).toEqual({
      ATHENA_DATABASE: 's3la_access_logs',
      ATHENA_TABLE: 's3_access_logs',
      ATHENA_WORKGROUP: { Ref: expect.stringMatching(/^AthenaWorkGroup/) },
      RESULT_PATH: expect.anything(),
      ...layout,
      LOG_FORMAT: 'text',
    });
    expect(env('QueryStatus')).toEqual({});
    // The merge's three steps read the same settings (MergeConfig), shard sizes included.
    for (const step of ['MergeResults', 'MergeShard', 'AssembleResults']) {
      expect(env(step)).toEqual({
        RESULT_PATH: expect.anything(),
        ...layout,
        PRICING_REGION: 'us-east-1',
        GEOIP_DB: GEOIP_DB_PATH,
        MERGE_SHARD_ROWS: '25000000',
        MERGE_SHARD_BYTES: String(2 * 1024 ** 3),
        MERGE_MAX_SHARDS: '1000',
      });
    }
    expect(env('RemoveMeta')).toEqual({ RESULT_PATH: expect.anything(), ...layout });
    expect(env('RemoveOriginalLogs')).toEqual({ RESULT_PATH: expect.anything(), S3_LOGS_LOCATION: LOGS_URI, ...layout });
    expect(env('SendReport')).toEqual({ RESULT_PATH: expect.anything() });
    for (const step of ['StartQuery', 'MergeResults', 'MergeShard', 'AssembleResults', 'RemoveMeta', 'RemoveOriginalLogs', 'SendReport']) {
      expect(render(env(step).RESULT_PATH)).toMatch(/^s3:\/\/<ResultsBucket\w+>\/s3la\/$/);
    }
  });

  test('memory and timeouts: the merge and the verification get more', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GEOIP_DB: GEOIP_DB_PATH }) },
      MemorySize: 2048,
      Timeout: 900,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ S3_LOGS_LOCATION: LOGS_URI }) },
      MemorySize: 2048,
      Timeout: 900,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: Match.absent(),
      MemorySize: 256,
      Timeout: 30,
    });
  });

  test('the GeoIP layer is attached to the steps that count the report only', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    const layer = logicalId(template, 'AWS::Lambda::LayerVersion', 'GeoIp');
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
    const withLayers = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
      ([, r]) => r.Properties.Layers,
    );
    expect(withLayers.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^AssembleResultsFunction/),
      expect.stringMatching(/^MergeResultsFunction/),
      expect.stringMatching(/^MergeShardFunction/),
    ]);
    for (const [, fn] of withLayers) expect(fn.Properties.Layers).toEqual([{ Ref: layer }]);
  });

  test('every function and the state machine log to their own group, kept 90 days', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', Object.keys(STEPS).length + 1);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test("the state machine's log group is named under /aws/vendedlogs/states/, after the stack", () => {
    const id = logicalId(template, 'AWS::Logs::LogGroup', 'ReportLogGroup');
    expect(template.toJSON().Resources[id].Properties.LogGroupName).toBe('/aws/vendedlogs/states/S3laTest-Report');
  });

  test('the state machine: standard, the definition inlined, logging ALL with execution data', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      DefinitionString: Match.stringLikeRegexp('"StartAt": "ComputePeriod"'),
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReportLogGroup'), 'Arn'] } } },
        ],
      },
      TracingConfiguration: { Enabled: false },
    });
  });

  test('the monthly schedule: the 2nd at 03:00 UTC, its input, retries and dead-letter queue', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 2 * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: Match.stringLikeRegexp('^ReportStateMachine') },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesRole'), 'Arn'] },
        Input: JSON.stringify({ frequency: 'monthly', removeMeta: true }),
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 6 * 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesDeadLetterQueue'), 'Arn'] } },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 });
  });

  test('the scheduler role can be assumed only by the scheduler of this account', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });

  test('each failed, timed-out or aborted execution of this state machine is told to the topic, naming it', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    const [ruleId, rule] = Object.entries(template.findResources('AWS::Events::Rule'))[0];
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ Ref: expect.stringMatching(/^ReportStateMachine/) }],
      },
    });
    expect(rule.Properties.Targets).toHaveLength(1);
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual({ Ref: expect.stringMatching(/^AlarmsTopic[0-9A-F]{8}$/) });
    // EventBridge publishes with the topic's resource policy, not a role.
    expect(target.RoleArn).toBeUndefined();
    // The input transformer: execution name, status and a console link to the execution.
    const { InputPathsMap: paths, InputTemplate: text } = target.InputTransformer;
    expect(paths).toEqual({
      'detail-name': '$.detail.name',
      'detail-status': '$.detail.status',
      'detail-executionArn': '$.detail.executionArn',
      region: '$.region',
    });
    expect(text).toMatch(/execution <detail-name> ended <detail-status>\./);
    expect(text).toContain(
      'https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<detail-executionArn>',
    );

    // No metric alarm on executions: the rule tells each one (the one alarm is the dead-letter queue's).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    const [alarmId] = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
    });

    // The topic policy: enforceSSL's Deny replaces SNS's default policy, so each publisher is
    // allowed explicitly, for its own rule or alarm in this account only.
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0];
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const topic = { Ref: expect.stringMatching(/^AlarmsTopic[0-9A-F]{8}$/) };
    const publisher = (sid: string, service: string, source: unknown) => ({
      Sid: sid,
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sns:Publish',
      Resource: topic,
      Condition: {
        ArnEquals: { 'aws:SourceArn': source },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
    });
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      publisher('EventBridgeRulePublishes', 'events.amazonaws.com', { 'Fn::GetAtt': [ruleId, 'Arn'] }),
      publisher('CloudWatchAlarmPublishes', 'cloudwatch.amazonaws.com', { 'Fn::GetAtt': [alarmId, 'Arn'] }),
    ]);
    expect(statements.filter((s) => s.Effect !== 'Allow')).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);

    // The topic is encrypted with a key both publishers may use.
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsTopicKey'), 'Arn'] },
    });
    for (const service of ['events.amazonaws.com', 'cloudwatch.amazonaws.com']) {
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: service },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
    }
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('no SES identity unless asked', () => {
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });

  test('outputs: the state machine ARN under its fixed key, console link, results, a start command', () => {
    template.hasOutput('StateMachineArn', { Value: { Ref: Match.stringLikeRegexp('^ReportStateMachine') } });
    const outputs = template.toJSON().Outputs;
    expect(render(outputs.StateMachineConsoleUrl.Value)).toMatch(
      /^https:\/\/<AWS::Region>\.console\.aws\.amazon\.com\/states\/home\?region=<AWS::Region>#\/statemachines\/view\/<ReportStateMachine\w+>$/,
    );
    expect(render(outputs.ResultsLocation.Value)).toMatch(/^s3:\/\/<ResultsBucket\w+>\/s3la\/$/);
    const command = render(outputs.StartExecutionCommand.Value);
    expect(command).toMatch(/^aws stepfunctions start-execution --state-machine-arn <ReportStateMachine\w+> --input '/);
    expect(JSON.parse(command.split("--input '")[1].slice(0, -1))).toEqual({
      dateRange: { start: '2026-10-01', end: '2026-10-31' },
    });
    expect(outputs.LogsTableName.Value).toBe('s3la_access_logs.s3_access_logs');
  });

  test('no warning with logsBucket set', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('settings change the stack', () => {
  test('without logsBucket the synth works and warns', () => {
    const { stack } = synth({ logsBucket: undefined });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('logsBucket is not set'));
  });

  test('simple layout: no PROJECTION_START anywhere, S3_LOGS_LAYOUT simple everywhere it is read', () => {
    const { template } = synth({ logsLayout: 'simple', logsPrefix: 'access-logs/' });
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const vars = fn.Properties.Environment?.Variables ?? {};
      expect(vars.PROJECTION_START).toBeUndefined();
      if (vars.S3_LOGS_LAYOUT !== undefined) expect(vars.S3_LOGS_LAYOUT).toBe('simple');
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ S3_LOGS_LOCATION: 's3://acme-access-logs/access-logs/' }) },
    });
  });

  test('an existing results bucket: no bucket created, everything points at it', () => {
    const { template } = synth({ resultsBucket: 'acme-reports', resultsPrefix: 'usage/' });
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RESULT_PATH: 's3://acme-reports/usage/' }) },
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: { ResultConfiguration: { OutputLocation: 's3://acme-reports/usage/_athena/' } },
    });
    template.hasOutput('ResultsLocation', { Value: 's3://acme-reports/usage/' });
  });

  test('results lifecycle: transition and expiry when asked', () => {
    const { template } = synth({ resultsTransitionDays: 30, resultsExpirationDays: 400, stagingExpirationDays: 3 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'ExpireStaging', ExpirationInDays: 3 }),
          {
            Id: 'Results',
            Prefix: 's3la/',
            Status: 'Enabled',
            ExpirationInDays: 400,
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
          },
        ]),
      },
    });
  });

  test('tuning: cutoff, polling, memory, optional step settings, pricing region, no GeoIP', () => {
    const { template } = synth({
      bytesScannedCutoffPerQuery: 50_000_000_000,
      queryWaitSeconds: 20,
      queryMaxPolls: 90,
      lambdaMemoryMb: 512,
      mergeMemoryMb: 4096,
      maxRangeDays: 93,
      lateDeliverySlackDays: 2,
      athenaPricePerTbUsd: 6.25,
      pricingRegion: 'eu-west-1',
      geoip: false,
      athenaWorkgroup: 'reports-wg',
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'reports-wg',
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 50_000_000_000 }),
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectLike({ QueryWaitSeconds: '20', QueryMaxPolls: '90' }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Environment: {
        Variables: {
          S3_LOGS_LAYOUT: 'date-based',
          PROJECTION_START: '2020-01-01',
          MAX_RANGE_DAYS: '93',
          LATE_DELIVERY_SLACK_DAYS: '2',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ATHENA_PRICE_PER_TB_USD: '6.25' } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 4096,
      Environment: { Variables: Match.objectLike({ PRICING_REGION: 'eu-west-1', GEOIP_DB: Match.absent() }) },
    });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    // Two slack days: the monthly run moves to the 3rd.
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 3 * ? *)' });
  });

  test('email without a reply-to address: REPLY_TO_EMAIL is not set', () => {
    const { template } = synth({ fromEmail: 'reports@acme.example', targetEmailAddress: 'ops@acme.example' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          RESULT_PATH: Match.anyValue(),
          FROM_EMAIL: 'reports@acme.example',
          TARGET_EMAIL_ADDRESS: 'ops@acme.example',
        },
      },
    });
  });

  test('explicit S3 prices reach MergeResults', () => {
    const { template } = synth({
      pricingRegion: 'ap-southeast-2',
      s3PriceWritePer1000: '0.0055',
      s3PriceReadPer1000: 0.00044,
      s3PriceTransferOutPerGb: '0.114',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PRICING_REGION: 'ap-southeast-2',
          S3_PRICE_WRITE_PER_1000: '0.0055',
          S3_PRICE_READ_PER_1000: '0.00044',
          S3_PRICE_TRANSFER_OUT_PER_GB: '0.114',
        }),
      },
    });
  });

  test('every frequency with its own time and flags', () => {
    const { template } = synth({
      logRemoval: true,
      schedules: {
        weekly: { time: '06:15', selectAll: true },
        monthly: { time: '01:00', removeMeta: true, removeOriginalLogs: true },
        quarterly: { excludeBucketOperations: true, verbose: true },
      },
    });
    const byInput = Object.fromEntries(
      Object.values(template.findResources('AWS::Scheduler::Schedule')).map((s) => [
        JSON.parse(s.Properties.Target.Input).frequency,
        { cron: s.Properties.ScheduleExpression, input: JSON.parse(s.Properties.Target.Input) },
      ]),
    );
    expect(byInput).toEqual({
      weekly: { cron: 'cron(15 6 ? * TUE *)', input: { frequency: 'weekly', selectAll: true } },
      monthly: {
        cron: 'cron(0 1 2 * ? *)',
        input: { frequency: 'monthly', removeMeta: true, removeOriginalLogs: true },
      },
      quarterly: {
        cron: 'cron(0 3 2 1,4,7,10 ? *)',
        input: { frequency: 'quarterly', excludeBucketOperations: true, verbose: true },
      },
    });
  });

  test('no schedules: no schedule, role, queue or dead-letter alarm', () => {
    const { template } = synth({ schedules: 'none' });
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    // Failed executions are still told: only EventBridge may publish.
    template.resourceCountIs('AWS::Events::Rule', 1);
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const allowed = policy.Properties.PolicyDocument.Statement.filter((s: { Effect: string }) => s.Effect === 'Allow');
    expect(allowed.map((s: { Principal: unknown }) => s.Principal)).toEqual([{ Service: 'events.amazonaws.com' }]);
  });

  test('tracing: functions and state machine traced', () => {
    const { template } = synth({ tracing: true });
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
  });

  test('email: the settings reach SendReport, the SES identity and an alarm subscription when asked', () => {
    const { template } = synth({
      fromEmail: 'reports@acme.example',
      replyToEmail: 'ops@acme.example',
      targetEmailAddress: 'finops@acme.example',
      createEmailIdentity: true,
      alarmEmail: 'oncall@acme.example',
      schedules: { weekly: { email: true } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          RESULT_PATH: Match.anyValue(),
          FROM_EMAIL: 'reports@acme.example',
          REPLY_TO_EMAIL: 'ops@acme.example',
          TARGET_EMAIL_ADDRESS: 'finops@acme.example',
        },
      },
    });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'reports@acme.example' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@acme.example' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ Input: JSON.stringify({ frequency: 'weekly', email: true }) }),
    });
  });
});
