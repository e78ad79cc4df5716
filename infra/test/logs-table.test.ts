import * as fs from 'fs';
import * as path from 'path';
import { Match } from 'aws-cdk-lib/assertions';
import {
  INPUT_FORMAT,
  JSON_SERDE_LIBRARY,
  LOG_COLUMNS,
  LOG_REGEX,
  OUTPUT_FORMAT,
  PARQUET_STORAGE,
  PARTITION_KEY,
  PROJECTION,
  SERDE_LIBRARY,
  STRUCTURED_COLUMNS,
} from '../lib/logs-table';
import logFields from '../lib/generated/log-fields.json';
import { synth } from './helpers';

/**
 * The Glue table must be the table `s3la ddl` prints. Its columns and pattern
 * come from generated/log-fields.json, which the Rust test
 * `athena_ddl::tests::the_glue_json_is_current` keeps equal to the table of log
 * fields; the checks here read the Rust source, so a change on either side
 * fails a test instead of drifting silently.
 */
const SHARED = path.join(__dirname, '..', '..', 'shared', 'src');
const ddlFile = fs.readFileSync(path.join(SHARED, 'athena_ddl.rs'), 'utf8');
// The code only: its unit tests hold example values.
const ddlSource = ddlFile.split('#[cfg(test)]')[0];
const fieldsSource = fs.readFileSync(path.join(SHARED, 'log_format', 'fields.rs'), 'utf8');
const regenerate = `regenerate infra/lib/generated/log-fields.json: ${logFields.generatedBy}`;

/** AWS's documented pattern, which the Rust test pins the derived one to. */
function awsPattern(): string {
  const m = /const AWS_PATTERN: &str = concat!\(([\s\S]*?)\);/.exec(ddlFile);
  if (!m) throw new Error('AWS_PATTERN not found in athena_ddl.rs');
  return [...m[1].matchAll(/r#"([\s\S]*?)"#/g)].map((p) => p[1]).join('');
}

/** The Athena columns and types of the table of log fields, in log order. */
function rustColumns(): string[] {
  const m = /pub const FIELDS: \[Field; \d+\] = \[([\s\S]*?)\];/.exec(fieldsSource);
  if (!m) throw new Error('FIELDS not found in fields.rs');
  return [...m[1].matchAll(/field\(\["[^"]+",\s*"([^"]+)",\s*"[^"]+"\],\s*\w+,\s*([A-Z]+),/g)].map(
    (f) => `${f[1]} ${f[2].toLowerCase()}`,
  );
}

describe('the logs table matches `s3la ddl` (shared/src/athena_ddl.rs)', () => {
  test('the RegexSerDe pattern is the same', () => {
    if (LOG_REGEX !== awsPattern()) throw new Error(`the pattern differs from AWS's; ${regenerate}`);
    expect(LOG_REGEX).toBe(awsPattern());
  });

  test('the pattern has one group per column', () => {
    const groups = (LOG_REGEX.match(/\(/g) ?? []).length - (LOG_REGEX.match(/\(\?:/g) ?? []).length;
    expect(groups).toBe(LOG_COLUMNS.length);
    expect(new RegExp(LOG_REGEX)).toBeDefined();
  });

  test('the columns are the same, in the same order, with the same types', () => {
    const columns = LOG_COLUMNS.map((c) => `${c.name} ${c.type}`);
    if (JSON.stringify(columns) !== JSON.stringify(rustColumns())) {
      throw new Error(`the columns differ from shared/src/log_format/fields.rs; ${regenerate}`);
    }
    expect(columns).toEqual(rustColumns());
    expect(LOG_COLUMNS.length).toBe(27);
    expect(LOG_COLUMNS.filter((c) => c.type === 'bigint').length).toBeGreaterThan(0);
  });

  test('SerDe, formats, partition and projection settings are the same', () => {
    expect(ddlSource).toContain(`ROW FORMAT SERDE '${SERDE_LIBRARY}'`);
    expect(ddlSource).toContain(`STORED AS INPUTFORMAT '${INPUT_FORMAT}'`);
    expect(ddlSource).toContain(`OUTPUTFORMAT '${OUTPUT_FORMAT}'`);
    expect(ddlSource).toContain(`PARTITIONED BY (\`${PARTITION_KEY}\` STRING)`);
    // The settings come from the Rust function the DDL writes them with.
    const rust = Object.fromEntries(
      [...ddlSource.matchAll(/\("(projection\.[a-z.]+)", "([^"]*)"\)/g)].map((m) => [m[1], m[2]]),
    );
    const { 'projection.timestamp.format': format, ...fixed } = PROJECTION;
    expect(rust).toEqual(fixed);
    // The format is the date folders' shape, `LogSource::partition_format`.
    expect(ddlSource).toContain('("projection.timestamp.format", source.partition_format())');
    expect(format).toBe('yyyy/MM/dd');
    expect(ddlSource).toContain(`"${format}"`);
    expect(ddlSource).toContain("'projection.timestamp.range' = '{},NOW'");
    expect(ddlSource).toContain('partition_value(projection_start)');
    expect(ddlSource).toContain("'storage.location.template' = '{}${{timestamp}}'");
  });
});

describe('the Glue table', () => {
  const location = 's3://acme-access-logs/logs/123456789012/eu-west-1/acme-data/';

  test('date-based layout: projected timestamp partitions from the projection start', () => {
    const { template } = synth({ projectionStart: '2023-05-01', athenaDatabase: 'logs_db', athenaTable: 'acme' });
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'logs_db' },
    });
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'logs_db',
      TableInput: {
        Name: 'acme',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [{ Name: 'timestamp', Type: 'string' }],
        Parameters: {
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          'projection.timestamp.type': 'date',
          'projection.timestamp.format': 'yyyy/MM/dd',
          'projection.timestamp.interval': '1',
          'projection.timestamp.interval.unit': 'DAYS',
          'projection.timestamp.range': '2023/05/01,NOW',
          'storage.location.template': `${location}\${timestamp}`,
        },
        StorageDescriptor: {
          Location: location,
          Columns: LOG_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
          InputFormat: INPUT_FORMAT,
          OutputFormat: OUTPUT_FORMAT,
          SerdeInfo: {
            SerializationLibrary: SERDE_LIBRARY,
            Parameters: { 'input.regex': LOG_REGEX },
          },
        },
      },
    });
    // The table is created after its database.
    const table = Object.values(template.findResources('AWS::Glue::Table'))[0];
    expect(table.DependsOn).toEqual([expect.stringMatching(/^LogsTableDatabase/)]);
  });

  test.each([
    ['json', false, JSON_SERDE_LIBRARY, INPUT_FORMAT, OUTPUT_FORMAT, 'yyyy/MM/dd', '2023/05/01'],
    [
      'parquet',
      true,
      PARQUET_STORAGE.serializationLibrary,
      PARQUET_STORAGE.inputFormat,
      PARQUET_STORAGE.outputFormat,
      "'year='yyyy'/month='MM'/day='dd",
      'year=2023/month=05/day=01',
    ],
  ])(
    'the structured delivery as %s (Hive folders: %s): its columns, SerDe and the folders\' projection',
    (format, hive, serde, inputFormat, outputFormat, projectionFormat, start) => {
      const { template } = synth({ projectionStart: '2023-05-01', logsFormat: format, logsHivePaths: hive });
      const input = Object.values(template.findResources('AWS::Glue::Table'))[0].Properties.TableInput;
      const columns = input.StorageDescriptor.Columns;
      expect(columns).toEqual(STRUCTURED_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })));
      expect(columns.slice(0, 2).map((c: { Name: string }) => c.Name)).toEqual(['schema_version_id', 'bucket_arn']);
      expect(columns).toContainEqual({ Name: 'http_status', Type: 'int' });
      expect(columns).toContainEqual({ Name: 'bytes_sent_size', Type: 'bigint' });
      expect(input.StorageDescriptor.SerdeInfo).toEqual({ SerializationLibrary: serde });
      expect([input.StorageDescriptor.InputFormat, input.StorageDescriptor.OutputFormat]).toEqual([
        inputFormat,
        outputFormat,
      ]);
      expect(input.Parameters['projection.timestamp.format']).toBe(projectionFormat);
      expect(input.Parameters['projection.timestamp.range']).toBe(`${start},NOW`);
      // StartQuery writes its SQL for the same form.
      const fns = template.findResources('AWS::Lambda::Function');
      const startQuery = Object.values(fns).find((f) =>
        String(f.Properties.Description ?? '').includes("starts the period's Athena UNLOAD"),
      );
      expect(startQuery?.Properties.Environment.Variables).toMatchObject({
        LOG_FORMAT: format,
        ...(hive ? { LOG_HIVE_PATHS: 'true' } : {}),
      });
      // The JSON SerDe is the one `s3la ddl --source json` names.
      expect(ddlSource).toContain(`ROW FORMAT SERDE '${JSON_SERDE_LIBRARY}'`);
    },
  );

  test('simple layout: no partitions and no projection, the location is the logs prefix', () => {
    const { template } = synth({ logsLayout: 'simple', logsPrefix: 'access-logs/' });
    const table = Object.values(template.findResources('AWS::Glue::Table'))[0];
    const input = table.Properties.TableInput;
    expect(input.PartitionKeys).toEqual([]);
    expect(input.Parameters).toEqual({ EXTERNAL: 'TRUE' });
    expect(input.StorageDescriptor.Location).toBe('s3://acme-access-logs/access-logs/');
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { StorageDescriptor: { SerdeInfo: { Parameters: { 'input.regex': LOG_REGEX } } } },
    });
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Parameters: Match.not(Match.objectLike({ 'projection.enabled': Match.anyValue() })) },
    });
  });
});
