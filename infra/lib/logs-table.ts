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

type Column = { name: string; type: 'string' | 'bigint' | 'int' };

function typed(columns: ReadonlyArray<{ name: string; type: string }>): ReadonlyArray<Column> {
  return columns.map((c) => {
    if (c.type !== 'string' && c.type !== 'bigint' && c.type !== 'int') {
      throw new Error(`log-fields.json: unknown type ${c.type}`);
    }
    return { name: c.name, type: c.type };
  });
}

/** AWS's columns for server access logs, in log order. */
export const LOG_COLUMNS: ReadonlyArray<Column> = typed(logFields.columns);

/**
 * The structured delivery's columns (`s3la ddl --source json|parquet`): the
 * records' own names and types, as "Log format in CloudWatch Logs" gives them.
 */
export const STRUCTURED_COLUMNS: ReadonlyArray<Column> = typed(logFields.structuredColumns);

/**
 * The RegexSerDe pattern (one group per column), as a plain regular
 * expression: Glue stores SerDe parameters unescaped, unlike the DDL's string
 * literal.
 */
export const LOG_REGEX: string = logFields.regex;

export const SERDE_LIBRARY = 'org.apache.hadoop.hive.serde2.RegexSerDe';
export const INPUT_FORMAT = 'org.apache.hadoop.mapred.TextInputFormat';
export const OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
/**
 * The structured delivery's JSON files (gzip'd or not: Athena reads both), by
 * the Hive JSON SerDe: Athena's guide warns that the OpenX one can give
 * non-deterministic results.
 */
export const JSON_SERDE_LIBRARY = 'org.apache.hive.hcatalog.data.JsonSerDe';
/** What Athena's `STORED AS PARQUET` stands for. */
export const PARQUET_STORAGE = {
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
} as const;

/** The partition column of the date-based layout: `YYYY/MM/DD` folders. */
export const PARTITION_KEY = 'timestamp';

/**
 * Partition projection of the date-based layout, less its range and template
 * (`projection_settings` in shared/src/athena_ddl.rs, through
 * generated/log-fields.json): over `YYYY/MM/DD` folders.
 */
export const PROJECTION: Readonly<Record<string, string>> = logFields.projection.plain;

/**
 * `LOG_TABLE`, the stack's `logsTable`: the table this stack creates over the logs' folders
 * (`projected`), a Glue table the user already has (`glue`), or the S3 Tables integration's
 * (`s3tables`). From shared/src/athena_ddl.rs (LogTable) through generated/log-fields.json.
 */
export type LogTable = 'projected' | 'glue' | 's3tables';
export const LOG_TABLES: readonly LogTable[] = logFields.logTables.map((t) => {
  if (t !== 'projected' && t !== 'glue' && t !== 's3tables') throw new Error(`log-fields.json: unknown table kind ${t}`);
  return t;
});

/** Where the S3 Tables integration puts server access logs (shared/src/athena_ddl.rs, S3_TABLES_LOGS). */
export const S3_TABLES_LOGS: { readonly catalog: string; readonly database: string; readonly table: string } =
  logFields.s3Tables;

export type LogsLayout = 'date-based' | 'simple';
/** `LOG_FORMAT`: S3's text files, or the structured delivery's JSON or Parquet files. */
export type LogsFormat = 'text' | 'json' | 'parquet';

export interface LogsTableProps {
  readonly databaseName: string;
  readonly tableName: string;
  /** `s3://bucket/prefix/` of the logs, with its trailing slash. */
  readonly location: string;
  readonly layout: LogsLayout;
  readonly format: LogsFormat;
  /** Hive-compatible date folders (structured formats only). */
  readonly hivePaths: boolean;
  /** First projected day, `YYYY-MM-DD` (date-based layout only). */
  readonly projectionStart: string;
}

/** The first projected day as a partition value: the date folders' path. */
function partitionValue(day: string, hive: boolean): string {
  const [y, m, d] = day.split('-');
  return hive ? `year=${y}/month=${m}/day=${d}` : `${y}/${m}/${d}`;
}

/** The storage descriptor's columns, formats and SerDe for logs of `format`. */
function storage(format: LogsFormat) {
  switch (format) {
    case 'text':
      return {
        columns: LOG_COLUMNS,
        inputFormat: INPUT_FORMAT,
        outputFormat: OUTPUT_FORMAT,
        serdeInfo: { serializationLibrary: SERDE_LIBRARY, parameters: { 'input.regex': LOG_REGEX } },
      };
    case 'json':
      return {
        columns: STRUCTURED_COLUMNS,
        inputFormat: INPUT_FORMAT,
        outputFormat: OUTPUT_FORMAT,
        serdeInfo: { serializationLibrary: JSON_SERDE_LIBRARY },
      };
    case 'parquet':
      return {
        columns: STRUCTURED_COLUMNS,
        inputFormat: PARQUET_STORAGE.inputFormat,
        outputFormat: PARQUET_STORAGE.outputFormat,
        serdeInfo: { serializationLibrary: PARQUET_STORAGE.serializationLibrary },
      };
  }
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
        description: `S3 server access logs (${props.format}) under ${props.location} (${props.layout} layout)`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          ...(dateBased
            ? {
                ...(props.hivePaths ? logFields.projection.hive : PROJECTION),
                'projection.timestamp.range': `${partitionValue(props.projectionStart, props.hivePaths)},NOW`,
                // Glue keeps `${timestamp}` literally; Athena fills in the partition.
                'storage.location.template': `${props.location}\${${PARTITION_KEY}}`,
              }
            : {}),
        },
        partitionKeys: dateBased ? [{ name: PARTITION_KEY, type: 'string' }] : [],
        storageDescriptor: (() => {
          const { columns, ...rest } = storage(props.format);
          return { columns: columns.map((c) => ({ name: c.name, type: c.type })), location: props.location, ...rest };
        })(),
      },
    });
    this.table.addResourceDependency(database);
  }
}
