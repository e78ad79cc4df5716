import * as fs from 'fs';
import * as path from 'path';
import { Match } from 'aws-cdk-lib/assertions';
import {
  INPUT_FORMAT,
  LOG_COLUMNS,
  LOG_REGEX,
  OUTPUT_FORMAT,
  PARTITION_KEY,
  PROJECTION,
  SERDE_LIBRARY,
} from '../lib/logs-table';
import { synth } from './helpers';

/**
 * The Glue table must be the table `s3la ddl` prints. Its parts are read here
 * from the Rust source that prints it, so a change on either side fails this
 * test instead of drifting silently.
 */
const SHARED = path.join(__dirname, '..', '..', 'shared', 'src');
// The code only: its unit tests hold example values.
const ddlSource = fs.readFileSync(path.join(SHARED, 'athena_ddl.rs'), 'utf8').split('#[cfg(test)]')[0];
const fieldsSource = fs.readFileSync(path.join(SHARED, 'log_format', 'fields.rs'), 'utf8');

function rustRegex(): string {
  const m = /pub const LOG_REGEX: &str = concat!\(([\s\S]*?)\);/.exec(ddlSource);
  if (!m) throw new Error('LOG_REGEX not found in athena_ddl.rs');
  return [...m[1].matchAll(/r#"([\s\S]*?)"#/g)].map((p) => p[1]).join('');
}

function rustColumns(): string[] {
  const m = /pub const FIELDS: \[Field; \d+\] = \[([\s\S]*?)\];/.exec(fieldsSource);
  if (!m) throw new Error('FIELDS not found in fields.rs');
  return [...m[1].matchAll(/field\("[^"]+",\s*"([^"]+)"\)/g)].map((f) => f[1]);
}

function rustBigintColumns(): string[] {
  const m = /fn athena_type[\s\S]*?match athena_name \{([\s\S]*?)\}/.exec(ddlSource);
  if (!m) throw new Error('athena_type not found in athena_ddl.rs');
  const arms = [...m[1].matchAll(/((?:"[a-z_]+"\s*\|?\s*)+)=>\s*"([A-Z]+)"/g)];
  for (const arm of arms) {
    if (arm[2] !== 'BIGINT') throw new Error(`unexpected Athena type ${arm[2]}: teach this test and LOG_COLUMNS`);
  }
  if (!/_\s*=>\s*"STRING"/.test(m[1])) throw new Error('athena_type no longer defaults to STRING');
  return arms.flatMap((arm) => [...arm[1].matchAll(/"([a-z_]+)"/g)].map((n) => n[1]));
}

describe('the logs table matches `s3la ddl` (shared/src/athena_ddl.rs)', () => {
  test('the RegexSerDe pattern is the same', () => {
    expect(LOG_REGEX).toBe(rustRegex());
  });

  test('the pattern has one group per column', () => {
    const groups = (LOG_REGEX.match(/\(/g) ?? []).length - (LOG_REGEX.match(/\(\?:/g) ?? []).length;
    expect(groups).toBe(LOG_COLUMNS.length);
    expect(new RegExp(LOG_REGEX)).toBeDefined();
  });

  test('the columns are the same, in the same order, with the same types', () => {
    expect(LOG_COLUMNS.map((c) => c.name)).toEqual(rustColumns());
    expect(LOG_COLUMNS.length).toBe(27);
    const bigint = rustBigintColumns();
    expect(bigint.length).toBeGreaterThan(0);
    for (const c of LOG_COLUMNS) {
      expect(`${c.name} ${c.type}`).toBe(`${c.name} ${bigint.includes(c.name) ? 'bigint' : 'string'}`);
    }
  });

  test('SerDe, formats, partition and projection settings are the same', () => {
    expect(ddlSource).toContain(`ROW FORMAT SERDE '${SERDE_LIBRARY}'`);
    expect(ddlSource).toContain(`STORED AS INPUTFORMAT '${INPUT_FORMAT}'`);
    expect(ddlSource).toContain(`OUTPUTFORMAT '${OUTPUT_FORMAT}'`);
    expect(ddlSource).toContain(`PARTITIONED BY (\`${PARTITION_KEY}\` STRING)`);
    const rust = Object.fromEntries(
      [...ddlSource.matchAll(/'(projection\.[a-z.]+)' = '([^'{}]*)'/g)].map((m) => [m[1], m[2]]),
    );
    expect(rust).toEqual(PROJECTION);
    expect(ddlSource).toContain("'projection.timestamp.range' = '{},NOW'");
    expect(ddlSource).toContain('projection_start.format("%Y/%m/%d")');
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
