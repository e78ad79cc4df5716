import { Annotations, Aws, CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { QueryWorkgroup } from './athena-workgroup';
import { addressOf, ConfigError, S3laConfig, splitAddresses } from './config';
import { DownloadLinks } from './download-links';
import { ExecutionAlarms } from './execution-alarms';
import { GeoIpLayer } from './geoip-layer';
import { LogsTable } from './logs-table';
import { acknowledgeWildcardResource } from './nag';
import { PipelineFunction, Step } from './pipeline-functions';
import { ReportSchedules } from './report-schedules';
import { ReportStateMachine } from './report-state-machine';
import { ResultsStorage } from './results-bucket';
import { allowListUnder, allowObjects, S3Prefix } from './s3-access';

function mapSteps<A, B>(steps: Record<Step, A>, f: (a: A) => B): Record<Step, B> {
  const out: Partial<Record<Step, B>> = {};
  for (const step of Object.keys(steps) as Step[]) out[step] = f(steps[step]);
  return out as Record<Step, B>;
}

export interface S3laStackProps extends StackProps {
  readonly config: S3laConfig;
}

/**
 * The whole product in one stack: the logs table, the Athena workgroup, the
 * results bucket, one Lambda per step with only the permissions its step
 * needs, the state machine, its schedules and its alarms.
 */
export class S3laStack extends Stack {
  readonly functions: Record<Step, PipelineFunction>;
  readonly reportStateMachine: ReportStateMachine;
  readonly results: ResultsStorage;
  /** The Glue table over the logs; undefined where the query reads a table the user has (logsTable). */
  readonly logsTable?: LogsTable;
  readonly workgroup: QueryWorkgroup;
  readonly schedules?: ReportSchedules;
  readonly alarms: ExecutionAlarms;
  readonly emailIdentity?: ses.EmailIdentity;
  readonly downloadLinks?: DownloadLinks;

  constructor(scope: Construct, id: string, props: S3laStackProps) {
    super(scope, id, props);
    const config = props.config;
    if (config.logs.placeholder) {
      Annotations.of(this).addWarningV2(
        's3la:logsBucketNotSet',
        `logsBucket is not set: the stack reads logs from the placeholder s3://${config.logs.bucket}/. ` +
          'Deploy with -c logsBucket=<your log bucket> -c logsPrefix=<prefix> (infra/README.md).',
      );
    }

    // Where the logs are (an existing bucket, never changed by this stack) and where results go.
    const logsBucket = s3.Bucket.fromBucketName(this, 'LogsBucket', config.logs.bucket);
    const logs = new S3Prefix(logsBucket, config.logs.prefix);
    this.results = new ResultsStorage(this, 'Results', {
      existingBucketName: config.results.existingBucket,
      prefix: config.results.prefix,
      stagingExpirationDays: config.results.stagingExpirationDays,
      transitionToInfrequentAccessDays: config.results.transitionToInfrequentAccessDays,
      expirationDays: config.results.expirationDays,
    });
    const results = this.results;

    if (config.logs.table === 'projected') {
      this.logsTable = new LogsTable(this, 'LogsTable', {
        databaseName: config.athena.database,
        tableName: config.athena.table,
        location: logs.uri,
        layout: config.logs.layout,
        format: config.logs.format,
        hivePaths: config.logs.hivePaths,
        projectionStart: config.athena.projectionStart,
      });
    }
    // Which table the query reads, for the steps that must know (shared/src/config.rs, LOG_TABLE):
    // StartQuery's SQL, and ComputePeriod and RemoveOriginalLogs, which refuse to delete the logs
    // of a table this stack did not create.
    const logTable: Record<string, string> =
      config.logs.table === 'projected' ? {} : { LOG_TABLE: config.logs.table };
    this.workgroup = new QueryWorkgroup(this, 'Athena', {
      name: config.athena.workgroup,
      resultLocation: results.athenaMetadata,
      bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
    });

    // Settings of the Lambdas, as shared/src/config.rs reads them.
    const layout: Record<string, string> = {
      S3_LOGS_LAYOUT: config.logs.layout,
      ...(config.logs.layout === 'date-based' ? { PROJECTION_START: config.athena.projectionStart } : {}),
    };
    const resultPath = { RESULT_PATH: results.root.uri };
    const optional = (entries: Record<string, string | number | undefined>): Record<string, string> =>
      Object.fromEntries(
        Object.entries(entries)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)]),
      );
    const geoip = config.geoip ? new GeoIpLayer(this, 'GeoIp') : undefined;

    const common = { logRetentionDays: config.logRetentionDays, tracing: config.tracing };
    // MergeResults, MergeShard and AssembleResults read the same settings (MergeConfig).
    const merging = {
      ...common,
      memoryMb: config.lambda.mergeMemoryMb,
      timeout: Duration.minutes(15),
      environment: {
        ...resultPath,
        ...layout,
        PRICING_REGION: config.pricingRegion,
        ...(config.s3Prices
          ? {
              S3_PRICE_WRITE_PER_1000: String(config.s3Prices.writePer1000),
              S3_PRICE_READ_PER_1000: String(config.s3Prices.readPer1000),
              S3_PRICE_TRANSFER_OUT_PER_GB: String(config.s3Prices.transferOutPerGb),
            }
          : {}),
        ...(geoip ? { GEOIP_DB: geoip.databasePath } : {}),
        MERGE_SHARD_ROWS: String(config.merge.shardRows),
        MERGE_SHARD_BYTES: String(config.merge.shardBytes),
        MERGE_MAX_SHARDS: String(config.merge.maxShards),
      },
      layers: geoip ? [geoip.layer] : undefined,
    };
    const small = { ...common, memoryMb: config.lambda.memoryMb };
    const large = { ...common, memoryMb: config.lambda.mergeMemoryMb };
    this.functions = {
      ComputePeriod: new PipelineFunction(this, 'ComputePeriod', {
        ...small,
        step: 'ComputePeriod',
        description: 'S3 Logs Analyzer: execution input -> period, options',
        timeout: Duration.seconds(30),
        environment: {
          ...layout,
          ...logTable,
          ...optional({
            MAX_RANGE_DAYS: config.period.maxRangeDays,
            LATE_DELIVERY_SLACK_DAYS: config.period.lateDeliverySlackDays,
          }),
        },
      }),
      StartQuery: new PipelineFunction(this, 'StartQuery', {
        ...small,
        step: 'StartQuery',
        description: "S3 Logs Analyzer: starts the period's Athena UNLOAD",
        timeout: Duration.minutes(1),
        environment: {
          ...optional({ ATHENA_CATALOG: config.athena.catalog }),
          ATHENA_DATABASE: config.athena.database,
          ATHENA_TABLE: config.athena.table,
          ATHENA_WORKGROUP: this.workgroup.name,
          ...resultPath,
          ...layout,
          ...logTable,
          // The form of the logs the table reads, which the SQL is written for (the S3 Tables
          // integration's table has the records' columns whatever it is set to).
          ...(config.logs.table === 's3tables' ? {} : { LOG_FORMAT: config.logs.format }),
          ...(config.logs.hivePaths ? { LOG_HIVE_PATHS: 'true' } : {}),
        },
      }),
      QueryStatus: new PipelineFunction(this, 'QueryStatus', {
        ...small,
        step: 'QueryStatus',
        description: "S3 Logs Analyzer: reads the query's state, data scanned and cost",
        timeout: Duration.seconds(30),
        environment: optional({ ATHENA_PRICE_PER_TB_USD: config.athena.pricePerTbUsd }),
      }),
      MergeResults: new PipelineFunction(this, 'MergeResults', {
        ...merging,
        step: 'MergeResults',
        description:
          "S3 Logs Analyzer: merges the query's parts into one Parquet and one csv.gz, or plans their shards",
      }),
      MergeShard: new PipelineFunction(this, 'MergeShard', {
        ...merging,
        step: 'MergeShard',
        description: 'S3 Logs Analyzer: merges one shard of a large period (an item of the MergeShards Map)',
      }),
      AssembleResults: new PipelineFunction(this, 'AssembleResults', {
        ...merging,
        step: 'AssembleResults',
        description: "S3 Logs Analyzer: assembles a large period's outputs from its shards by server-side copies",
      }),
      RemoveMeta: new PipelineFunction(this, 'RemoveMeta', {
        ...small,
        step: 'RemoveMeta',
        description: "S3 Logs Analyzer: deletes this query's staging data and metadata",
        timeout: Duration.minutes(5),
        environment: { ...resultPath, ...layout },
      }),
      RemoveOriginalLogs: new PipelineFunction(this, 'RemoveOriginalLogs', {
        // Verifying the outputs reads the whole csv.gz.
        ...large,
        step: 'RemoveOriginalLogs',
        description: "S3 Logs Analyzer: deletes the period's own log objects once the outputs are verified",
        timeout: Duration.minutes(15),
        environment: { ...resultPath, S3_LOGS_LOCATION: logs.uri, ...layout, ...logTable },
      }),
      SendReport: new PipelineFunction(this, 'SendReport', {
        ...small,
        step: 'SendReport',
        description: 'S3 Logs Analyzer: emails the report with a link to the csv.gz',
        timeout: Duration.minutes(2),
        environment: {
          ...resultPath,
          ...(config.email
            ? {
                FROM_EMAIL: config.email.fromEmail,
                TARGET_EMAIL_ADDRESS: config.email.targetEmailAddress,
                ...optional({ REPLY_TO_EMAIL: config.email.replyToEmail }),
              }
            : {}),
        },
      }),
    };

    this.grantStepPermissions(config, logs);

    // Week-long links: SendReport signs CloudFront URLs instead of presigning S3 GETs.
    if (config.downloadLinks) {
      if (!results.createdBucket) {
        throw new ConfigError(
          'downloadLinks',
          'needs the results bucket this stack creates: with resultsBucket set, the stack cannot admit the ' +
            'distribution in its policy (infra/README.md, "Week-long download links")',
        );
      }
      this.downloadLinks = new DownloadLinks(this, 'DownloadLinks', {
        ...config.downloadLinks,
        bucket: results.createdBucket,
        results: results.root,
      });
      this.downloadLinks.grantSigning(this.functions.SendReport.fn);
      new CfnOutput(this, 'DownloadLinksDomain', {
        description: 'The CloudFront distribution that serves the signed download links',
        value: this.downloadLinks.distribution.distributionDomainName,
      });
    }

    if (config.email?.createIdentity) {
      this.emailIdentity = new ses.EmailIdentity(this, 'SenderIdentity', {
        identity: ses.Identity.email(addressOf('fromEmail', config.email.fromEmail)),
      });
    }

    this.reportStateMachine = new ReportStateMachine(this, 'Report', {
      functions: mapSteps(this.functions, (f) => f.fn),
      queryWaitSeconds: config.polling.waitSeconds,
      queryMaxPolls: config.polling.maxPolls,
      mergeConcurrency: config.merge.concurrency,
      logRetentionDays: config.logRetentionDays,
      tracing: config.tracing,
    });
    const stateMachine = this.reportStateMachine.stateMachine;

    if (config.schedules.length > 0) {
      this.schedules = new ReportSchedules(this, 'Schedules', {
        stateMachine,
        schedules: config.schedules,
        slackDays: config.period.lateDeliverySlackDays ?? 1,
      });
    }
    this.alarms = new ExecutionAlarms(this, 'Alarms', {
      stateMachine,
      scheduleDeadLetterQueue: this.schedules?.deadLetterQueue,
      email: config.alarmEmail,
    });

    // The CLI finds the state machine by this output's key: keep it.
    new CfnOutput(this, 'StateMachineArn', {
      description: 'The report state machine',
      value: stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'StateMachineConsoleUrl', {
      description: 'The state machine in the Step Functions console: executions, their steps and errors',
      value: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${stateMachine.stateMachineArn}`,
    });
    new CfnOutput(this, 'ResultsLocation', {
      description: 'RESULT_PATH: one folder of outputs per period (<label>/requests-<label>.parquet and .csv.gz)',
      value: results.root.uri,
    });
    new CfnOutput(this, 'LogsTableName', {
      description: 'The table over the logs, for ad-hoc Athena queries in the workgroup below',
      // A catalog name such as s3tablescatalog/<bucket> must be quoted in SQL; quote all three then.
      value: config.athena.catalog
        ? `"${config.athena.catalog}"."${config.athena.database}"."${config.athena.table}"`
        : `${config.athena.database}.${config.athena.table}`,
    });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.workgroup.name });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe to be told of failed executions',
      value: this.alarms.topic.topicArn,
    });
    new CfnOutput(this, 'StartExecutionCommand', {
      description: 'Starts a report for a custom period from a shell',
      value:
        `aws stepfunctions start-execution --state-machine-arn ${stateMachine.stateMachineArn} ` +
        `--input '{"dateRange": {"start": "2026-10-01", "end": "2026-10-31"}}'`,
    });
  }

  /** A Glue ARN in this stack's account and region. */
  private glueArn(resource: string, resourceName?: string): string {
    return this.formatArn({ service: 'glue', resource, resourceName });
  }

  /**
   * Reading the S3 Tables integration's table through Athena, with IAM access control (AWS Glue
   * guide, "Prerequisites" of the S3 Tables catalog: glue:GetCatalog, GetDatabase, GetTable, and
   * the s3tables read actions), or with Lake Formation's credential vending
   * (lakeformation:GetDataAccess), whichever the account set up.
   */
  private grantS3TablesRead(role: iam.IRole, config: S3laConfig): void {
    const catalog = config.athena.catalog ?? '';
    const tableBucket = catalog.split('/')[1];
    const glueArn = (resource: string, resourceName?: string): string => this.glueArn(resource, resourceName);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetCatalog', 'glue:GetDatabase', 'glue:GetTable'],
        resources: [
          glueArn('catalog'),
          glueArn('catalog', 's3tablescatalog'),
          glueArn('catalog', catalog),
          glueArn('database', `${catalog}/${config.athena.database}`),
          glueArn('table', `${catalog}/${config.athena.database}/${config.athena.table}`),
        ],
      }),
    );
    const bucketArn = this.formatArn({ service: 's3tables', resource: 'bucket', resourceName: tableBucket });
    // A table's ARN ends in its id, not its name (…:bucket/<bucket>/table/<id>): the bucket's tables.
    const tablesArn = `${bucketArn}/table/*`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          's3tables:GetTableBucket',
          's3tables:GetNamespace',
          's3tables:GetTable',
          's3tables:GetTableMetadataLocation',
          's3tables:GetTableData',
        ],
        resources: [bucketArn, tablesArn],
      }),
    );
    acknowledgeWildcardResource(
      role,
      tablesArn,
      "An S3 table's ARN ends in its id, which AWS assigns; the grant is read-only and on the one table bucket.",
    );
    // GetDataAccess takes no resource (Lake Formation's API reference: Resource "*").
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lakeformation:GetDataAccess'], resources: ['*'] }));
    acknowledgeWildcardResource(
      role,
      '*',
      "lakeformation:GetDataAccess has no resource-level permissions; what it vends is Lake Formation's grants.",
    );
  }

  /** Exactly what each step does, and nothing else (infra/README.md, "Permissions"). */
  private grantStepPermissions(config: S3laConfig, logs: S3Prefix): void {
    const f = this.functions;
    const results = this.results;
    const glueArn = (resource: string, resourceName?: string): string => this.glueArn(resource, resourceName);

    // StartQuery submits the UNLOAD: Athena runs it with this role's permissions, reading the
    // table (Glue) and the logs, and writing the parts and its metadata under the results prefix.
    const startQuery = f.StartQuery.role;
    startQuery.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // StopQueryExecution: a query still running after queryMaxPolls reads is stopped
        // before the execution fails with QueryTimedOut.
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [this.workgroup.arn],
      }),
    );
    if (config.logs.table === 's3tables') {
      this.grantS3TablesRead(startQuery, config);
    } else {
      // The stack's table, or the user's Glue table, in the account's catalog.
      startQuery.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [
            glueArn('catalog'),
            glueArn('database', config.athena.database),
            glueArn('table', `${config.athena.database}/${config.athena.table}`),
          ],
        }),
      );
    }
    startQuery.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation'],
        resources: [
          ...new Set([...(config.logs.table === 's3tables' ? [] : [logs.bucket.bucketArn]), results.bucket.bucketArn]),
        ],
      }),
    );
    if (config.logs.table !== 's3tables') {
      allowObjects(startQuery, ['s3:GetObject'], [logs], 'Athena reads the logs of the period.');
      allowListUnder(startQuery, [logs]);
    }
    startQuery.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucketMultipartUploads'],
        resources: [results.bucket.bucketArn],
      }),
    );
    allowListUnder(startQuery, [results.staging, results.athenaMetadata]);
    allowObjects(
      startQuery,
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      [results.staging, results.athenaMetadata],
      "Athena writes the UNLOAD's Parquet parts and the query's metadata and manifest.",
    );

    f.QueryStatus.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetQueryExecution'],
        resources: [this.workgroup.arn],
      }),
    );

    // MergeResults reads the manifest and parts, and writes the outputs by multipart upload.
    allowListUnder(f.MergeResults.role, [results.root]);
    allowObjects(
      f.MergeResults.role,
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      [results.root],
      'MergeResults reads the query parts and manifest and writes the merged outputs (or the shard plan ' +
        "in the query's staging prefix); it deletes the period's _SUCCESS.json before replacing the files it names.",
    );
    // A shard reads the plan and its parts' row groups, and writes its files beside the plan.
    allowObjects(
      f.MergeShard.role,
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      [results.staging],
      "MergeShard reads the shard plan and the query's parts and writes its shard beside the plan, all in the " +
        'staging prefix.',
    );
    // The assembly copies the shards' bytes into the outputs (UploadPartCopy: GetObject on the
    // source, PutObject on the target), writes the report and output set, and removes the shards.
    allowListUnder(f.AssembleResults.role, [results.root]);
    allowObjects(
      f.AssembleResults.role,
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      [results.root],
      "AssembleResults copies the shards (staging) into the period's outputs, reads the earlier periods' " +
        'reports, writes the report and output set, and deletes the shards and the old _SUCCESS.json.',
    );

    // RemoveMeta deletes only under _staging/ and _athena/.
    allowListUnder(f.RemoveMeta.role, [results.staging, results.athenaMetadata]);
    allowObjects(
      f.RemoveMeta.role,
      ['s3:DeleteObject'],
      [results.staging, results.athenaMetadata],
      "RemoveMeta deletes one query's staging parts and Athena metadata.",
    );

    // RemoveOriginalLogs verifies the outputs, reads the period's log objects back to account
    // for every line, records what it deletes beside the outputs (deleted-logs.json), and
    // deletes logs only when the deployment allows it.
    const removeLogs = f.RemoveOriginalLogs.role;
    allowListUnder(removeLogs, [results.root]);
    allowObjects(
      removeLogs,
      ['s3:GetObject', 's3:PutObject'],
      [results.root],
      'RemoveOriginalLogs reads the outputs back to verify them, and writes the list of log ' +
        'objects it deletes beside them, before deleting anything.',
    );
    // It refuses, before reading any, the logs of a table this stack did not create (logsTable).
    if (config.logs.table === 'projected') {
      allowListUnder(removeLogs, [logs]);
      allowObjects(
        removeLogs,
        ['s3:GetObject'],
        [logs],
        'RemoveOriginalLogs reads each log object it would delete, to check every line is in the outputs.',
      );
    }
    if (config.logRemoval) {
      allowObjects(
        removeLogs,
        ['s3:DeleteObject'],
        [logs],
        'RemoveOriginalLogs deletes the log objects of the period (logRemoval is enabled).',
      );
    }

    // SendReport presigns a link to the csv.gz (the link carries this role's s3:GetObject).
    allowObjects(
      f.SendReport.role,
      ['s3:GetObject'],
      [results.root],
      'SendReport presigns download links to the outputs.',
    );
    if (config.email) {
      // SES authorizes a send on the identity that covers the sender: the address, or its domain.
      const from = addressOf('fromEmail', config.email.fromEmail);
      const identities = [from, from.slice(from.indexOf('@') + 1)];
      if (config.email.sandbox) {
        // In the SES sandbox, sending also checks the permission on each (verified) recipient.
        identities.push(
          ...splitAddresses(config.email.targetEmailAddress).map((a) => addressOf('targetEmailAddress', a)),
        );
      }
      f.SendReport.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          // SendReport sends one MIME message through SES v2 SendEmail with raw content, which
          // SES authorizes as ses:SendRawEmail; ses:SendEmail covers SES v2's other content types.
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [...new Set(identities)].map((identity) =>
            this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
          ),
        }),
      );
    }
  }
}
