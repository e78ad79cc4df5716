import { Template } from 'aws-cdk-lib/assertions';
import { S3_TABLES_LOGS } from '../lib/logs-table';
import { policyOf, synth } from './helpers';

/**
 * logsTable=glue|s3tables: the query reads a table the user already has. The stack creates no
 * Glue table, StartQuery is told which table and catalog (LOG_TABLE, ATHENA_CATALOG), its role may
 * read exactly that table, and no step may read or delete the logs for removal.
 */
function environmentOf(template: Template, description: string): Record<string, string> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    String(f.Properties.Description ?? '').includes(description),
  );
  return fn?.Properties.Environment?.Variables ?? {};
}

const ARN = 'arn:<AWS::Partition>';
const AT = '<AWS::Region>:<AWS::AccountId>';
const RESULTS = '<ResultsBucket.Arn>';

describe('a table the user already has', () => {
  test('glue: their table is read where it is, filtered on time; nothing of the logs is removable', () => {
    const { template } = synth({
      logsTable: 'glue',
      logsFormat: 'json',
      athenaDatabase: 'security_lake',
      athenaTable: 's3_access',
    });
    template.resourceCountIs('AWS::Glue::Table', 0);
    template.resourceCountIs('AWS::Glue::Database', 0);
    const env = environmentOf(template, "starts the period's Athena UNLOAD");
    expect(env).toMatchObject({
      ATHENA_DATABASE: 'security_lake',
      ATHENA_TABLE: 's3_access',
      LOG_TABLE: 'glue',
      LOG_FORMAT: 'json',
    });
    expect(env.ATHENA_CATALOG).toBeUndefined();
    expect(environmentOf(template, 'execution input -> period')).toMatchObject({ LOG_TABLE: 'glue' });
    expect(environmentOf(template, "deletes the period's own log objects")).toMatchObject({ LOG_TABLE: 'glue' });
    expect(policyOf(template, 'StartQueryRole')).toContain(
      `Allow glue:GetDatabase,glue:GetPartitions,glue:GetTable on ` +
        [
          `${ARN}:glue:${AT}:catalog`,
          `${ARN}:glue:${AT}:database/security_lake`,
          `${ARN}:glue:${AT}:table/security_lake/s3_access`,
        ].join(' '),
    );
    // RemoveOriginalLogs refuses before reading: it may not even list the logs.
    const removal = policyOf(template, 'RemoveOriginalLogsRole').join('\n');
    expect(removal).not.toContain('acme-access-logs');
  });

  test("s3tables: the integration's table by its catalog, read through Glue and S3 Tables, no logs bucket", () => {
    const { template } = synth({ logsTable: 's3tables', logsBucket: undefined, logsPrefix: undefined });
    template.resourceCountIs('AWS::Glue::Table', 0);
    expect(S3_TABLES_LOGS).toEqual({
      catalog: 's3tablescatalog/aws-cloudwatch',
      database: 'logs',
      table: 'amazon_s3__server_access',
    });
    const env = environmentOf(template, "starts the period's Athena UNLOAD");
    expect(env).toMatchObject({
      ATHENA_CATALOG: 's3tablescatalog/aws-cloudwatch',
      ATHENA_DATABASE: 'logs',
      ATHENA_TABLE: 'amazon_s3__server_access',
      LOG_TABLE: 's3tables',
    });
    expect(env.LOG_FORMAT).toBeUndefined();
    expect(policyOf(template, 'StartQueryRole')).toEqual(
      [
        `Allow athena:GetQueryExecution,athena:StartQueryExecution,athena:StopQueryExecution on ${ARN}:athena:${AT}:workgroup/<AthenaWorkGroup>`,
        `Allow glue:GetCatalog,glue:GetDatabase,glue:GetTable on ` +
          [
            `${ARN}:glue:${AT}:catalog`,
            `${ARN}:glue:${AT}:catalog/s3tablescatalog`,
            `${ARN}:glue:${AT}:catalog/s3tablescatalog/aws-cloudwatch`,
            `${ARN}:glue:${AT}:database/s3tablescatalog/aws-cloudwatch/logs`,
            `${ARN}:glue:${AT}:table/s3tablescatalog/aws-cloudwatch/logs/amazon_s3__server_access`,
          ].join(' '),
        `Allow s3tables:GetNamespace,s3tables:GetTable,s3tables:GetTableBucket,s3tables:GetTableData,s3tables:GetTableMetadataLocation on ` +
          [`${ARN}:s3tables:${AT}:bucket/aws-cloudwatch`, `${ARN}:s3tables:${AT}:bucket/aws-cloudwatch/table/*`].join(' '),
        'Allow lakeformation:GetDataAccess on *',
        `Allow s3:GetBucketLocation on ${RESULTS}`,
        `Allow s3:ListBucketMultipartUploads on ${RESULTS}`,
        `Allow s3:ListBucket on ${RESULTS} if ${JSON.stringify({ StringLike: { 's3:prefix': ['s3la/_staging/*', 's3la/_athena/*'] } })}`,
        `Allow s3:AbortMultipartUpload,s3:GetObject,s3:ListMultipartUploadParts,s3:PutObject on ${RESULTS}/s3la/_athena/* ${RESULTS}/s3la/_staging/*`,
        'Allow logs:CreateLogStream,logs:PutLogEvents on <StartQueryLogGroup.Arn>',
      ].sort(),
    );
    template.hasOutput('LogsTableName', {
      Value: '"s3tablescatalog/aws-cloudwatch"."logs"."amazon_s3__server_access"',
    });
  });

  test('s3tables: another table bucket is named by its catalog', () => {
    const { template } = synth({ logsTable: 's3tables', athenaCatalog: 's3tablescatalog/acme-logs' });
    expect(environmentOf(template, "starts the period's Athena UNLOAD")).toMatchObject({
      ATHENA_CATALOG: 's3tablescatalog/acme-logs',
    });
    expect(policyOf(template, 'StartQueryRole').join('\n')).toContain(`${ARN}:s3tables:${AT}:bucket/acme-logs/table/*`);
  });
});
