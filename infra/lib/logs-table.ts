import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';

import logFields from './generated/log-fields.json';

/**
 * The Athena table over S3 server access logs, as a Glue table: the same
 * table `s3la ddl` prints (shared/src/athena_ddl.rs). Its columns, their types
 * and the RegexSerDe pattern come from the table of log fields
 * (shared/src/log_format/fields.rs) through generated/log-fields.json, which a
 * Rust test keeps current, as are the projection settings; the SerDe and
 * formats below are compared with the Rust source by test/logs-table.test.ts.
 */

/** AWS's columns for server access logs, in log order. */
export const LOG_COLUMNS: ReadonlyArray<{ name: string; type: 'string' | 'bigint' }> = logFields.columns.map((c) => {
  if (c.type !== 'string' && c.type !== 'bigint') throw new Error(`log-fields.json: unknown type ${c.type}`);
  return { name: c.name, type: c.type };
});

/**
 * The RegexSerDe pattern (one group per column), as a plain regular
 * expression: Glue stores SerDe parameters unescaped, unlike the DDL's string
 * literal.
 */
export const LOG_REGEX: string = logFields.regex;

export const SERDE_LIBRARY = 'org.apache.hadoop.hive.serde2.RegexSerDe';
export const INPUT_FORMAT = 'org.apache.hadoop.mapred.TextInputFormat';
export const OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';

/** The partition column of the date-based layout: `YYYY/MM/DD` folders. */
export const PARTITION_KEY = 'timestamp';

/**
 * Partition projection of the date-based layout, less its range and template
 * (`projection_settings` in shared/src/athena_ddl.rs, through
 * generated/log-fields.json): over `YYYY/MM/DD` folders.
 */
export const PROJECTION: Readonly<Record<string, string>> = logFields.projection.plain;

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
