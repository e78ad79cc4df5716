import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';

/**
 * The Athena table over S3 server access logs, as a Glue table: the same
 * table `s3la ddl` prints (shared/src/athena_ddl.rs). The column list, types,
 * RegexSerDe pattern and projection settings below are compared with the Rust
 * source by test/logs-table.test.ts, so the two cannot drift apart silently.
 */

/** AWS's columns for server access logs, in log order (27, up to `sourceregion`). */
export const LOG_COLUMNS: ReadonlyArray<{ name: string; type: 'string' | 'bigint' }> = [
  { name: 'bucketowner', type: 'string' },
  { name: 'bucket_name', type: 'string' },
  { name: 'requestdatetime', type: 'string' },
  { name: 'remoteip', type: 'string' },
  { name: 'requester', type: 'string' },
  { name: 'requestid', type: 'string' },
  { name: 'operation', type: 'string' },
  { name: 'key', type: 'string' },
  { name: 'request_uri', type: 'string' },
  { name: 'httpstatus', type: 'string' },
  { name: 'errorcode', type: 'string' },
  { name: 'bytessent', type: 'bigint' },
  { name: 'objectsize', type: 'bigint' },
  { name: 'totaltime', type: 'string' },
  { name: 'turnaroundtime', type: 'string' },
  { name: 'referrer', type: 'string' },
  { name: 'useragent', type: 'string' },
  { name: 'versionid', type: 'string' },
  { name: 'hostid', type: 'string' },
  { name: 'sigv', type: 'string' },
  { name: 'ciphersuite', type: 'string' },
  { name: 'authtype', type: 'string' },
  { name: 'endpoint', type: 'string' },
  { name: 'tlsversion', type: 'string' },
  { name: 'accesspointarn', type: 'string' },
  { name: 'aclrequired', type: 'string' },
  { name: 'sourceregion', type: 'string' },
];

/**
 * The RegexSerDe pattern (27 groups), as a plain regular expression: Glue
 * stores SerDe parameters unescaped, unlike the DDL's string literal.
 */
export const LOG_REGEX =
  '([^ ]*) ([^ ]*) \\[(.*?)\\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ' +
  '(-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ("[^"]*"|-) ([^ ]*)' +
  '(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$';

export const SERDE_LIBRARY = 'org.apache.hadoop.hive.serde2.RegexSerDe';
export const INPUT_FORMAT = 'org.apache.hadoop.mapred.TextInputFormat';
export const OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';

/** The partition column of the date-based layout: `YYYY/MM/DD` folders. */
export const PARTITION_KEY = 'timestamp';

/** Partition projection of the date-based layout, less its range and template. */
export const PROJECTION = {
  'projection.enabled': 'true',
  'projection.timestamp.type': 'date',
  'projection.timestamp.format': 'yyyy/MM/dd',
  'projection.timestamp.interval': '1',
  'projection.timestamp.interval.unit': 'DAYS',
} as const;

export type LogsLayout = 'date-based' | 'simple';

export interface LogsTableProps {
  readonly databaseName: string;
  readonly tableName: string;
  /** `s3://bucket/prefix/` of the logs, with its trailing slash. */
  readonly location: string;
  readonly layout: LogsLayout;
  /** First projected day, `YYYY-MM-DD` (date-based layout only). */
  readonly projectionStart: string;
}

/** The Glue database and the logs table in it. */
export class LogsTable extends Construct {
  readonly databaseName: string;
  readonly tableName: string;
  readonly table: glue.CfnTable;

  constructor(scope: Construct, id: string, props: LogsTableProps) {
    super(scope, id);
    this.databaseName = props.databaseName;
    this.tableName = props.tableName;

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'S3 Logs Analyzer: S3 server access logs',
      },
    });

    const dateBased = props.layout === 'date-based';
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: props.databaseName,
      tableInput: {
        name: props.tableName,
        description: `S3 server access logs under ${props.location} (${props.layout} layout)`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          ...(dateBased
            ? {
                ...PROJECTION,
                'projection.timestamp.range': `${props.projectionStart.replace(/-/g, '/')},NOW`,
                // Glue keeps `${timestamp}` literally; Athena fills in the partition.
                'storage.location.template': `${props.location}\${${PARTITION_KEY}}`,
              }
            : {}),
        },
        partitionKeys: dateBased ? [{ name: PARTITION_KEY, type: 'string' }] : [],
        storageDescriptor: {
          columns: LOG_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
          location: props.location,
          inputFormat: INPUT_FORMAT,
          outputFormat: OUTPUT_FORMAT,
          serdeInfo: {
            serializationLibrary: SERDE_LIBRARY,
            parameters: { 'input.regex': LOG_REGEX },
          },
        },
      },
    });
    this.table.addResourceDependency(database);
  }
}
