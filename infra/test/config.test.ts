import { ConfigError, ContextKey, DEFAULTS, loadConfig, MAX_QUERY_POLLS } from '../lib/config';

const load = (ctx: Partial<Record<ContextKey, unknown>>) => loadConfig((k) => ctx[k]);
const base = { logsBucket: 'acme-access-logs' };

describe('settings from context', () => {
  test('defaults', () => {
    const c = load(base);
    expect(c.logs).toEqual({
      bucket: 'acme-access-logs',
      prefix: '',
      layout: 'date-based',
      format: 'text',
      hivePaths: false,
      table: 'projected',
      placeholder: false,
    });
    expect(c.results).toEqual({
      existingBucket: undefined,
      prefix: 's3la/',
      stagingExpirationDays: 7,
      transitionToInfrequentAccessDays: undefined,
      expirationDays: undefined,
    });
    expect(c.athena).toEqual({
      database: 's3la_access_logs',
      table: 's3_access_logs',
      workgroup: 's3la',
      projectionStart: '2020-01-01',
      bytesScannedCutoffPerQuery: 1024 ** 4,
      pricePerTbUsd: undefined,
    });
    expect(c.polling).toEqual({ waitSeconds: 10, maxPolls: 360 });
    expect(c.lambda).toEqual({ memoryMb: 256, mergeMemoryMb: 2048 });
    expect([c.logRemoval, c.tracing, c.geoip, c.pricingRegion]).toEqual([false, false, true, 'us-east-1']);
    expect(c.email).toBeUndefined();
    expect(c.schedules).toEqual([{ frequency: 'monthly', hour: 3, minute: 0, flags: { removeMeta: true } }]);
    expect(c.logRetentionDays).toBe(90);
  });

  test('without logsBucket a placeholder stands in, marked as such', () => {
    const c = load({});
    expect(c.logs.bucket).toBe(DEFAULTS.placeholderLogsBucket);
    expect(c.logs.placeholder).toBe(true);
  });

  test('values from the command line arrive as strings', () => {
    const c = load({
      ...base,
      logsPrefix: '/logs/123456789012/eu-west-1/acme-data',
      resultsPrefix: 'reports',
      logRemoval: 'true',
      tracing: 'false',
      queryWaitSeconds: '30',
      bytesScannedCutoffPerQuery: '10000000',
      athenaPricePerTbUsd: '6.25',
      schedules: '{"weekly": {"time": "04:30", "email": true}, "quarterly": true}',
      fromEmail: 'reports@acme.example',
      targetEmailAddress: 'ops@acme.example, finops@acme.example',
    });
    expect(c.logs.prefix).toBe('logs/123456789012/eu-west-1/acme-data/');
    expect(c.results.prefix).toBe('reports/');
    expect([c.logRemoval, c.tracing]).toEqual([true, false]);
    expect(c.polling.waitSeconds).toBe(30);
    expect(c.athena.bytesScannedCutoffPerQuery).toBe(10_000_000);
    expect(c.athena.pricePerTbUsd).toBe(6.25);
    expect(c.schedules).toEqual([
      { frequency: 'weekly', hour: 4, minute: 30, flags: { email: true } },
      { frequency: 'quarterly', hour: 3, minute: 0, flags: {} },
    ]);
    expect(c.email).toEqual({
      fromEmail: 'reports@acme.example',
      replyToEmail: undefined,
      targetEmailAddress: 'ops@acme.example, finops@acme.example',
      createIdentity: false,
      sandbox: false,
    });
  });

  test('addresses may carry a display name, as the Lambdas accept them', () => {
    const c = load({
      ...base,
      fromEmail: 'S3 reports <reports@acme.example>',
      targetEmailAddress: 'Ops <ops@acme.example>, finops@acme.example',
    });
    expect(c.email?.fromEmail).toBe('S3 reports <reports@acme.example>');
    expect(c.email?.replyToEmail).toBeUndefined();
  });

  test('results may share the log bucket under a prefix of their own', () => {
    const c = load({ ...base, resultsBucket: 'acme-access-logs', logsPrefix: 'logs/', resultsPrefix: 'reports/' });
    expect([c.results.existingBucket, c.results.prefix]).toEqual(['acme-access-logs', 'reports/']);
  });

  test('"none" turns the schedules off; an empty prefix is the bucket root', () => {
    const c = load({ ...base, schedules: 'none', resultsPrefix: '/' });
    expect(c.schedules).toEqual([]);
    expect(c.results.prefix).toBe('');
  });

  test("queryMaxPolls: as many polls as one execution's history holds with room to redrive, no more", () => {
    expect(MAX_QUERY_POLLS).toBe(2251);
    expect(load({ ...base, queryMaxPolls: '2251' }).polling.maxPolls).toBe(2251);
    const refused = () => load({ ...base, queryMaxPolls: 2252 });
    expect(refused).toThrow(ConfigError);
    expect(refused).toThrow(
      "context queryMaxPolls: 2252 status polls do not fit in one execution's history: each adds 11 events " +
        '(and the rest of the execution up to 230), a Standard execution fails at 25,000 events and can be ' +
        'redriven only below 24,999: at most 2251',
    );
  });

  test('merge shards: defaults, and each bound as the Lambdas read it', () => {
    expect(load(base).merge).toEqual({
      shardRows: 25_000_000,
      shardBytes: 2 * 1024 ** 3,
      maxShards: 1000,
      concurrency: 40,
    });
    const set = load({ ...base, mergeShardRows: '1000', mergeMaxShards: 10_000, mergeConcurrency: 1 }).merge;
    expect([set.shardRows, set.maxShards, set.concurrency]).toEqual([1000, 10_000, 1]);
    for (const [key, bad] of [
      ['mergeShardRows', 999],
      ['mergeShardBytes', 1024],
      ['mergeMaxShards', 10_001],
      ['mergeConcurrency', 0],
    ] as const) {
      expect(() => load({ ...base, [key]: bad })).toThrow(`context ${key}: must be`);
    }
  });

  test.each<[Partial<Record<ContextKey, unknown>>, string]>([
    [{ logsBucket: 'Acme_Logs' }, 'context logsBucket: must be an S3 bucket name'],
    [{ resultsBucket: 'x' }, 'context resultsBucket: must be an S3 bucket name'],
    [{ logsLayout: 'hourly' }, 'context logsLayout: must be one of date-based, simple'],
    [{ logsFormat: 'csv' }, 'context logsFormat: must be one of text, json, parquet'],
    [{ logsHivePaths: true }, 'context logsHivePaths: S3 writes text logs without Hive-compatible folders'],
    [
      { logsFormat: 'json', logsHivePaths: true, logsLayout: 'simple' },
      'context logsHivePaths: Hive-compatible folders are date folders',
    ],
    [{ logsTable: 'iceberg' }, 'context logsTable: must be one of projected, glue, s3tables'],
    [{ logsTable: 'glue', athenaTable: 'their_logs' }, 'context athenaDatabase: with logsTable=glue, name your Glue table'],
    [
      { logsTable: 'glue', athenaDatabase: 'theirs', athenaTable: 'logs', logRemoval: true },
      'context logRemoval: the logs are read through a table this stack does not create (logsTable=glue)',
    ],
    [
      { logsTable: 'glue', athenaDatabase: 'theirs', athenaTable: 'logs', logsFormat: 'json', logsHivePaths: true },
      "context logsHivePaths: names the folders of the table this stack creates; with logsTable=glue the query reads the table's own partitions",
    ],
    [{ logsTable: 's3tables', logsFormat: 'text' }, "context logsFormat: the S3 Tables integration's table has the structured records' columns"],
    [{ logsTable: 's3tables', athenaCatalog: 'AwsDataCatalog' }, 'context athenaCatalog: with logsTable=s3tables it is s3tablescatalog/<table bucket name>'],
    [{ athenaCatalog: 's3tablescatalog/x' }, 'context athenaCatalog: names the S3 Tables catalog: set it only with logsTable=s3tables'],
    [
      { logsTable: 'glue', athenaDatabase: 'theirs', athenaTable: 'logs', athenaCatalog: 'other' },
      'context athenaCatalog: names the S3 Tables catalog',
    ],
    [{ logsPrefix: "logs/x' --" }, 'context logsPrefix: must be a key prefix'],
    [{ athenaDatabase: 'Logs-DB' }, 'context athenaDatabase: must be lower-case letters'],
    [{ athenaTable: 't; drop' }, 'context athenaTable: must be lower-case letters'],
    [{ projectionStart: '2024-02-30' }, 'context projectionStart: must be a real date'],
    [{ bytesScannedCutoffPerQuery: 1000 }, 'context bytesScannedCutoffPerQuery: must be a number from 10000000'],
    [{ queryMaxPolls: '0' }, 'context queryMaxPolls: must be a number from 1'],
    [{ lambdaMemoryMb: 'lots' }, 'context lambdaMemoryMb: must be a number'],
    [{ logRemoval: 'yes' }, 'context logRemoval: must be true or false'],
    [{ lateDeliverySlackDays: 8 }, 'context lateDeliverySlackDays: must be a number from 0 to 7'],
    [{ logRetentionDays: 10 }, "context logRetentionDays: must be one of CloudWatch Logs' retention periods"],
    [{ pricingRegion: 'Virginia' }, 'context pricingRegion: must be an AWS region'],
    [{ pricingRegion: 'eu-central-1' }, 'context pricingRegion: eu-central-1 has no built-in S3 prices'],
    [
      { s3PriceWritePer1000: 0.005, s3PriceReadPer1000: 0.0004 },
      'context s3PriceTransferOutPerGb: is not set: set all of',
    ],
    [{ s3PriceReadPer1000: 'cheap' }, 'context s3PriceReadPer1000: must be a number'],
    [{ fromEmail: 'Reports <reports>', targetEmailAddress: 'ops@acme.example' }, 'context fromEmail: must be an email address'],
    [{ schedules: '{"daily": {}}' }, "context schedules: 'daily' is not a frequency"],
    [{ schedules: '{"weekly": {"time": "25:00"}}' }, 'context schedules: weekly.time must be "HH:MM"'],
    [{ schedules: '{"weekly": {"selectall": true}}' }, 'context schedules: weekly.selectall is not known'],
    [{ schedules: '{"weekly": {"email": "yes"}}' }, 'context schedules: weekly.email must be true or false'],
    [{ schedules: '{weekly}' }, 'context schedules: must be JSON'],
    [{ schedules: '{"monthly": {"email": true}}' }, 'context schedules: the monthly schedule asks for email'],
    [
      { schedules: '{"monthly": {"removeOriginalLogs": true}}' },
      'context schedules: the monthly schedule asks for removeOriginalLogs, but logRemoval is off',
    ],
    [{ schedules: '{"weekly": true}', lateDeliverySlackDays: 7 }, 'context lateDeliverySlackDays: a weekly schedule'],
    [{ fromEmail: 'reports@acme.example' }, 'context targetEmailAddress: is required when fromEmail is set'],
    [{ targetEmailAddress: 'ops@acme.example' }, 'context fromEmail: is required when targetEmailAddress is set'],
    [{ fromEmail: 'reports', targetEmailAddress: 'ops@acme.example' }, 'context fromEmail: must be an email address'],
    [
      { fromEmail: 'r@acme.example', targetEmailAddress: 'ops@acme.example;x@y.z' },
      'context targetEmailAddress: must be an email address',
    ],
    [{ createEmailIdentity: true }, 'context fromEmail: is required with replyToEmail or createEmailIdentity'],
    [
      { resultsBucket: 'acme-access-logs', logsPrefix: 'logs/', resultsPrefix: 'logs/reports/' },
      'context resultsPrefix: s3://acme-access-logs/logs/reports/ and the logs at s3://acme-access-logs/logs/ lie one inside the other',
    ],
    [{ resultsBucket: 'acme-access-logs', logsPrefix: 'logs/', resultsPrefix: '/' }, 'lie one inside the other'],
  ])('%j is refused, naming the key', (ctx, message) => {
    expect(() => load({ ...base, ...ctx })).toThrow(ConfigError);
    expect(() => load({ ...base, ...ctx })).toThrow(message);
  });
});
