/**
 * The deployment's settings: read from CDK context (`-c key=value` or
 * cdk.json), checked once, with every default in one place. A wrong value
 * stops the synth with a message naming the context key, as the Lambdas'
 * settings name their variable. infra/README.md documents each key.
 */

import { DownloadLinksConfig, readDownloadLinks } from './download-links';
import executionInput from './execution-input.json';
import { LOG_TABLES, LogTable, LogsFormat, LogsLayout, S3_TABLES_LOGS } from './logs-table';

export type Frequency = 'weekly' | 'monthly' | 'quarterly';
export const FREQUENCIES: readonly Frequency[] = ['weekly', 'monthly', 'quarterly'];

/**
 * The execution-input flags a schedule may set: generated from
 * shared/src/request/fields.rs (regenerate: see the file's generatedBy).
 */
export const SCHEDULE_FLAGS: readonly string[] = executionInput.scheduleFlags;
export type ScheduleFlag = string;

export interface ScheduleConfig {
  readonly frequency: Frequency;
  /** Time of day, UTC. */
  readonly hour: number;
  readonly minute: number;
  /** The flags sent in the execution input (only those set). */
  readonly flags: Partial<Record<ScheduleFlag, boolean>>;
}

export interface EmailConfig {
  readonly fromEmail: string;
  /** Optional: without it, replies go to fromEmail. */
  readonly replyToEmail?: string;
  /** As given: one address, or several separated by commas. */
  readonly targetEmailAddress: string;
  /** Create the SES email identity of `fromEmail` (SES then mails a verification link). */
  readonly createIdentity: boolean;
  /** Also allow sending to the recipients' identities, as SES's sandbox requires. */
  readonly sandbox: boolean;
}

export interface S3laConfig {
  readonly logs: {
    readonly bucket: string;
    /** Key prefix, '' or ending in '/'. */
    readonly prefix: string;
    readonly layout: LogsLayout;
    /** The form S3 delivers the logs in: text files, or the structured delivery's JSON or Parquet. */
    readonly format: LogsFormat;
    /** The structured delivery writes Hive-compatible folders (year=YYYY/month=MM/day=DD). */
    readonly hivePaths: boolean;
    /**
     * The table the query reads: `projected`, the one this stack creates over the logs' folders;
     * `glue`, a Glue table the user already has; `s3tables`, the S3 Tables integration's table.
     */
    readonly table: LogTable;
    /** True when no logsBucket was given and a placeholder stands in. */
    readonly placeholder: boolean;
  };
  readonly results: {
    /** An existing bucket; undefined: the stack creates one. */
    readonly existingBucket?: string;
    /** Key prefix, '' or ending in '/'. */
    readonly prefix: string;
    readonly stagingExpirationDays: number;
    readonly transitionToInfrequentAccessDays?: number;
    readonly expirationDays?: number;
  };
  readonly athena: {
    /** The data catalog of the logs table, when not AwsDataCatalog (S3 Tables: s3tablescatalog/<bucket>). */
    readonly catalog?: string;
    readonly database: string;
    readonly table: string;
    readonly workgroup: string;
    /** `YYYY-MM-DD`. */
    readonly projectionStart: string;
    readonly bytesScannedCutoffPerQuery: number;
    readonly pricePerTbUsd?: number;
  };
  readonly period: {
    readonly maxRangeDays?: number;
    readonly lateDeliverySlackDays?: number;
  };
  readonly polling: {
    readonly waitSeconds: number;
    readonly maxPolls: number;
  };
  readonly lambda: {
    readonly memoryMb: number;
    readonly mergeMemoryMb: number;
  };
  /** How MergeResults splits a large period into shards (shared/src/config.rs, ShardSettings). */
  readonly merge: {
    readonly shardRows: number;
    readonly shardBytes: number;
    readonly maxShards: number;
    /** Shards merged at once by the MergeShards Map state (child executions). */
    readonly concurrency: number;
  };
  readonly logRemoval: boolean;
  readonly tracing: boolean;
  readonly geoip: boolean;
  readonly pricingRegion: string;
  /** Explicit S3 list prices for the report's cost estimate (USD), instead of the region's. */
  readonly s3Prices?: { readonly writePer1000: number; readonly readPer1000: number; readonly transferOutPerGb: number };
  readonly email?: EmailConfig;
  readonly schedules: readonly ScheduleConfig[];
  readonly alarmEmail?: string;
  /** Week-long CloudFront signed links in the email instead of presigned S3 links. */
  readonly downloadLinks?: DownloadLinksConfig;
  readonly logRetentionDays: number;
}

/** Defaults of every optional setting (the README's table repeats them). */
export const DEFAULTS = {
  logsPrefix: '',
  logsLayout: 'date-based' as LogsLayout,
  logsFormat: 'text' as LogsFormat,
  logsHivePaths: false,
  logsTable: 'projected' as LogTable,
  resultsPrefix: 's3la/',
  stagingExpirationDays: 7,
  // Not AWS's tutorial name (s3_access_logs_db): a database of that name already exists wherever the
  // tutorial was followed, and the stack's Glue database would fail to create (AlreadyExists).
  athenaDatabase: 's3la_access_logs',
  athenaTable: 's3_access_logs',
  athenaWorkgroup: 's3la',
  projectionStart: '2020-01-01',
  // 1 TiB: about 5 USD at Athena's list price; a month of a busy bucket's logs is far less.
  bytesScannedCutoffPerQuery: 1024 ** 4,
  queryWaitSeconds: 10,
  // 360 reads 10 s apart: an hour, twice Athena's default 30-minute DML timeout.
  queryMaxPolls: 360,
  lambdaMemoryMb: 256,
  // MergeResults encodes the csv.gz on several threads; Lambda's CPU grows with memory
  // (1,769 MB is one full vCPU).
  mergeMemoryMb: 2048,
  // A shard well inside a Lambda's 15 minutes (shared/src/config.rs, ShardSettings, says why).
  mergeShardRows: 25_000_000,
  mergeShardBytes: 2 * 1024 ** 3,
  mergeMaxShards: 1000,
  // Shards merged at once: at 25 M rows a shard, 40 Lambdas take a billion rows in one wave.
  mergeConcurrency: 40,
  logRemoval: false,
  tracing: false,
  geoip: true,
  pricingRegion: 'us-east-1',
  /** Regions whose S3 prices merge-results has built in (shared/src/report/pricing.rs). */
  builtInPriceRegions: ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'] as readonly string[],
  createEmailIdentity: false,
  sesSandbox: false,
  schedules: { monthly: { time: '03:00', removeMeta: true } } as Record<string, unknown>,
  logRetentionDays: 90,
  /** Stands in for logsBucket so `cdk synth` works with no context; a warning says so. */
  placeholderLogsBucket: 'example-access-logs-bucket',
} as const;

/**
 * Step Functions history limits, which queryMaxPolls must fit (Step Functions quotas; "Redrive
 * executions"). A Standard execution fails when its history reaches 25,000 events, and can be
 * redriven only while its history holds fewer than 24,999 (the redrive appends ExecutionRedriven
 * and at least one more event). A redrive of a timed-out query appends another whole poll loop.
 */
export const HISTORY_EVENT_LIMIT = 25_000;
export const REDRIVE_HISTORY_LIMIT = 24_999;

/**
 * History events of one status poll, counted from statemachine/definition/s3la.asl.json's loop:
 * WaitForQuery (Wait: WaitStateEntered, WaitStateExited = 2), QueryStatus (Task: TaskStateEntered,
 * LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded, TaskStateExited = 5),
 * CountPoll (Pass: 2), IsQueryDone (Choice: 2). A retried QueryStatus adds 3 more per retry.
 * test/definition.test.ts recounts it from the file.
 */
export const HISTORY_EVENTS_PER_POLL = 11;

/**
 * History events outside the poll loop, at most: every other state once (a Task 5 events, a Pass,
 * Choice, Wait or Succeed 2, a Parallel 4 and its branches, the Distributed Map 4: its shards run as
 * child executions, each with a history of its own), ExecutionStarted and the execution's end, and
 * every Retry of every other Task used (3 events each) — 176 today, recounted from the file by
 * test/definition.test.ts — plus 50 for QueryStatus retries.
 */
export const HISTORY_EVENTS_FIXED = 230;

/** The most status polls one execution's history holds with room left to redrive it: 2,251. */
export const MAX_QUERY_POLLS = Math.floor((REDRIVE_HISTORY_LIMIT - 1 - HISTORY_EVENTS_FIXED) / HISTORY_EVENTS_PER_POLL);

/** Every context key this app reads. */
export const CONTEXT_KEYS = [
  'logsBucket',
  'logsPrefix',
  'logsLayout',
  'logsFormat',
  'logsHivePaths',
  'logsTable',
  'athenaCatalog',
  'resultsBucket',
  'resultsPrefix',
  'stagingExpirationDays',
  'resultsTransitionDays',
  'resultsExpirationDays',
  'athenaDatabase',
  'athenaTable',
  'athenaWorkgroup',
  'projectionStart',
  'bytesScannedCutoffPerQuery',
  'athenaPricePerTbUsd',
  'maxRangeDays',
  'lateDeliverySlackDays',
  'queryWaitSeconds',
  'queryMaxPolls',
  'lambdaMemoryMb',
  'mergeMemoryMb',
  'mergeShardRows',
  'mergeShardBytes',
  'mergeMaxShards',
  'mergeConcurrency',
  'logRemoval',
  'tracing',
  'geoip',
  'pricingRegion',
  's3PriceWritePer1000',
  's3PriceReadPer1000',
  's3PriceTransferOutPerGb',
  'fromEmail',
  'replyToEmail',
  'targetEmailAddress',
  'createEmailIdentity',
  'sesSandbox',
  'schedules',
  'alarmEmail',
  'downloadLinks',
  'logRetentionDays',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
  3288, 3653,
];

export class ConfigError extends Error {
  constructor(key: string, message: string) {
    super(`context ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the settings. `get` returns a context value: a string from `-c
 * key=value`, or any JSON value from cdk.json and tests.
 */
export function loadConfig(get: (key: ContextKey) => unknown): S3laConfig {
  const r = new Reader(get);

  const logsBucketGiven = r.optionalString('logsBucket');
  const logsBucket = logsBucketGiven ?? DEFAULTS.placeholderLogsBucket;
  checkBucketName('logsBucket', logsBucket);
  const layout = r.oneOf('logsLayout', ['date-based', 'simple'] as const, DEFAULTS.logsLayout);
  const format = r.oneOf('logsFormat', ['text', 'json', 'parquet'] as const, DEFAULTS.logsFormat);
  const hivePaths = r.boolean('logsHivePaths', DEFAULTS.logsHivePaths);
  if (hivePaths && format === 'text') {
    throw new ConfigError(
      'logsHivePaths',
      'S3 writes text logs without Hive-compatible folders: set it only with logsFormat=json or parquet',
    );
  }
  if (hivePaths && layout === 'simple') {
    throw new ConfigError('logsHivePaths', 'Hive-compatible folders are date folders: use logsLayout=date-based');
  }

  const table = r.oneOf('logsTable', LOG_TABLES, DEFAULTS.logsTable);
  const names = readTableNames(r, table, format, hivePaths);

  const existingBucket = r.optionalString('resultsBucket');
  if (existingBucket !== undefined) checkBucketName('resultsBucket', existingBucket);

  const slack = r.optionalInteger('lateDeliverySlackDays', 0, 7);
  const logRemoval = r.boolean('logRemoval', DEFAULTS.logRemoval);
  if (logRemoval && table !== 'projected') {
    throw new ConfigError(
      'logRemoval',
      `the logs are read through a table this stack does not create (logsTable=${table}): which objects its ` +
        "rows come from, and whether they may go, is for the table's owner to say; drop logRemoval",
    );
  }

  const email = readEmail(r);
  const schedules = readSchedules(r.json('schedules', DEFAULTS.schedules));
  for (const s of schedules) {
    if (s.flags.removeOriginalLogs && !logRemoval) {
      throw new ConfigError(
        'schedules',
        `the ${s.frequency} schedule asks for removeOriginalLogs, but logRemoval is off: ` +
          'set -c logRemoval=true (it grants s3:DeleteObject on the logs prefix) or drop the flag',
      );
    }
    if (s.frequency === 'weekly' && (slack ?? 1) > 6) {
      throw new ConfigError(
        'lateDeliverySlackDays',
        'a weekly schedule runs the day after the slack days, before the next week ends: at most 6',
      );
    }
    if (s.flags.email && !email) {
      throw new ConfigError(
        'schedules',
        `the ${s.frequency} schedule asks for email, but fromEmail and targetEmailAddress are not set`,
      );
    }
  }

  const logRetentionDays = r.integer('logRetentionDays', DEFAULTS.logRetentionDays, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `must be one of CloudWatch Logs' retention periods (${LOG_RETENTION_DAYS.join(', ')}), got ${logRetentionDays}`,
    );
  }

  const logsPrefix = r.prefix('logsPrefix', DEFAULTS.logsPrefix);
  const resultsPrefix = r.prefix('resultsPrefix', DEFAULTS.resultsPrefix);
  if (
    existingBucket === logsBucket &&
    (logsPrefix.startsWith(resultsPrefix) || resultsPrefix.startsWith(logsPrefix))
  ) {
    // The table would read results as logs, and RemoveOriginalLogs refuses overlapping locations.
    throw new ConfigError(
      'resultsPrefix',
      `s3://${logsBucket}/${resultsPrefix} and the logs at s3://${logsBucket}/${logsPrefix} lie one inside the other`,
    );
  }

  const pricingRegion = r.region('pricingRegion', DEFAULTS.pricingRegion);
  const s3Prices = readPrices(r);
  if (!s3Prices && !DEFAULTS.builtInPriceRegions.includes(pricingRegion)) {
    throw new ConfigError(
      'pricingRegion',
      `${pricingRegion} has no built-in S3 prices (built in: ${DEFAULTS.builtInPriceRegions.join(', ')}); ` +
        'set s3PriceWritePer1000, s3PriceReadPer1000 and s3PriceTransferOutPerGb from the S3 pricing page',
    );
  }

  return {
    logs: {
      bucket: logsBucket,
      prefix: logsPrefix,
      layout,
      format,
      hivePaths,
      table,
      // The S3 Tables integration's table is not read from a logs bucket.
      placeholder: logsBucketGiven === undefined && table !== 's3tables',
    },
    results: {
      existingBucket,
      prefix: resultsPrefix,
      stagingExpirationDays: r.integer(
        'stagingExpirationDays',
        DEFAULTS.stagingExpirationDays,
        1,
        3650,
      ),
      transitionToInfrequentAccessDays: r.optionalInteger('resultsTransitionDays', 30, 36500),
      expirationDays: r.optionalInteger('resultsExpirationDays', 1, 36500),
    },
    athena: {
      ...names,
      workgroup: r.workgroup('athenaWorkgroup', DEFAULTS.athenaWorkgroup),
      projectionStart: r.date('projectionStart', DEFAULTS.projectionStart),
      // Athena's smallest cutoff is 10 MB.
      bytesScannedCutoffPerQuery: r.integer(
        'bytesScannedCutoffPerQuery',
        DEFAULTS.bytesScannedCutoffPerQuery,
        10_000_000,
        Number.MAX_SAFE_INTEGER,
      ),
      pricePerTbUsd: r.optionalNumber('athenaPricePerTbUsd', 0, 1000),
    },
    period: {
      maxRangeDays: r.optionalInteger('maxRangeDays', 1, 3660),
      lateDeliverySlackDays: slack,
    },
    polling: {
      waitSeconds: r.integer('queryWaitSeconds', DEFAULTS.queryWaitSeconds, 1, 3600),
      maxPolls: readMaxPolls(r),
    },
    lambda: {
      memoryMb: r.integer('lambdaMemoryMb', DEFAULTS.lambdaMemoryMb, 128, 10240),
      mergeMemoryMb: r.integer('mergeMemoryMb', DEFAULTS.mergeMemoryMb, 128, 10240),
    },
    merge: {
      // The same bounds as the Lambdas' MERGE_SHARD_ROWS, MERGE_SHARD_BYTES, MERGE_MAX_SHARDS.
      shardRows: r.integer('mergeShardRows', DEFAULTS.mergeShardRows, 1000, Number.MAX_SAFE_INTEGER),
      shardBytes: r.integer('mergeShardBytes', DEFAULTS.mergeShardBytes, 1024 ** 2, Number.MAX_SAFE_INTEGER),
      maxShards: r.integer('mergeMaxShards', DEFAULTS.mergeMaxShards, 1, 10_000),
      // A Distributed Map runs at most 10,000 child executions at once.
      concurrency: r.integer('mergeConcurrency', DEFAULTS.mergeConcurrency, 1, 10_000),
    },
    logRemoval,
    tracing: r.boolean('tracing', DEFAULTS.tracing),
    geoip: r.boolean('geoip', DEFAULTS.geoip),
    pricingRegion,
    s3Prices,
    email,
    schedules,
    alarmEmail: r.optionalEmail('alarmEmail'),
    downloadLinks: readDownloadLinks(r.json('downloadLinks', undefined)),
    logRetentionDays,
  };
}

/**
 * queryMaxPolls, refused when the polls cannot fit in one execution's history with room to
 * redrive it. (With queryWaitSeconds at most 3,600, the polls also wait far less than a Standard
 * execution's one-year limit; the state machine itself sets no timeout.)
 */
function readMaxPolls(r: Reader): number {
  const polls = r.integer('queryMaxPolls', DEFAULTS.queryMaxPolls, 1, 100_000);
  if (polls > MAX_QUERY_POLLS) {
    throw new ConfigError(
      'queryMaxPolls',
      `${polls} status polls do not fit in one execution's history: each adds ${HISTORY_EVENTS_PER_POLL} ` +
        `events (and the rest of the execution up to ${HISTORY_EVENTS_FIXED}), a Standard execution fails at ` +
        `${HISTORY_EVENT_LIMIT.toLocaleString('en-US')} events and can be redriven only below ` +
        `${REDRIVE_HISTORY_LIMIT.toLocaleString('en-US')}: at most ${MAX_QUERY_POLLS} ` +
        '(raise queryWaitSeconds instead to wait longer)',
    );
  }
  return polls;
}

function readPrices(r: Reader): S3laConfig['s3Prices'] {
  const keys = ['s3PriceWritePer1000', 's3PriceReadPer1000', 's3PriceTransferOutPerGb'] as const;
  const [writePer1000, readPer1000, transferOutPerGb] = keys.map((k) => r.optionalNumber(k, 0, 100));
  const given = [writePer1000, readPer1000, transferOutPerGb].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given !== keys.length) {
    const missing = keys.find((_, i) => [writePer1000, readPer1000, transferOutPerGb][i] === undefined)!;
    throw new ConfigError(missing, `is not set: set all of ${keys.join(', ')} or none`);
  }
  return { writePer1000: writePer1000!, readPer1000: readPer1000!, transferOutPerGb: transferOutPerGb! };
}

function readEmail(r: Reader): EmailConfig | undefined {
  const fromEmail = r.optionalEmail('fromEmail');
  const targetEmailAddress = r.optionalString('targetEmailAddress');
  const replyToEmail = r.optionalEmail('replyToEmail');
  const createIdentity = r.boolean('createEmailIdentity', DEFAULTS.createEmailIdentity);
  const sandbox = r.boolean('sesSandbox', DEFAULTS.sesSandbox);
  if (fromEmail === undefined && targetEmailAddress === undefined) {
    if (replyToEmail !== undefined || createIdentity) {
      throw new ConfigError('fromEmail', 'is required with replyToEmail or createEmailIdentity');
    }
    return undefined;
  }
  if (fromEmail === undefined) {
    throw new ConfigError('fromEmail', 'is required when targetEmailAddress is set');
  }
  if (targetEmailAddress === undefined) {
    throw new ConfigError('targetEmailAddress', 'is required when fromEmail is set');
  }
  for (const address of splitAddresses(targetEmailAddress)) {
    checkEmail('targetEmailAddress', address);
  }
  return {
    fromEmail,
    replyToEmail,
    targetEmailAddress,
    createIdentity,
    sandbox,
  };
}

/** The recipients of `targetEmailAddress`. */
export function splitAddresses(value: string): string[] {
  return value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}

function readSchedules(value: unknown): ScheduleConfig[] {
  if (value === 'none' || value === null || value === false) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      'schedules',
      'must be a JSON object like {"monthly": {"time": "03:00", "removeMeta": true}}, or "none"',
    );
  }
  const schedules: ScheduleConfig[] = [];
  for (const [frequency, spec] of Object.entries(value as Record<string, unknown>)) {
    if (!(FREQUENCIES as readonly string[]).includes(frequency)) {
      throw new ConfigError(
        'schedules',
        `'${frequency}' is not a frequency; use weekly, monthly or quarterly`,
      );
    }
    if (spec === false || spec === null) continue;
    const fields: Record<string, unknown> = spec === true ? {} : (spec as Record<string, unknown>);
    if (typeof fields !== 'object' || Array.isArray(fields)) {
      throw new ConfigError('schedules', `${frequency} must be true or an object of flags`);
    }
    const flags: Partial<Record<ScheduleFlag, boolean>> = {};
    let time = '03:00';
    for (const [name, v] of Object.entries(fields)) {
      if (name === 'time') {
        if (typeof v !== 'string') {
          throw new ConfigError('schedules', `${frequency}.time must be "HH:MM" (UTC)`);
        }
        time = v;
      } else if ((SCHEDULE_FLAGS as readonly string[]).includes(name)) {
        if (typeof v !== 'boolean') {
          throw new ConfigError('schedules', `${frequency}.${name} must be true or false`);
        }
        if (v) flags[name as ScheduleFlag] = true;
      } else {
        throw new ConfigError(
          'schedules',
          `${frequency}.${name} is not known; allowed: time, ${SCHEDULE_FLAGS.join(', ')}`,
        );
      }
    }
    const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
    if (!m) {
      throw new ConfigError('schedules', `${frequency}.time must be "HH:MM" (UTC), got '${time}'`);
    }
    schedules.push({ frequency: frequency as Frequency, hour: +m[1], minute: +m[2], flags });
  }
  return schedules;
}

/** S3 general-purpose bucket naming rules (as shared/src/validate.rs checks them). */
function checkBucketName(key: string, name: string): void {
  if (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ||
    name.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name)
  ) {
    throw new ConfigError(
      key,
      `must be an S3 bucket name (3-63 lower-case letters, digits, '-' and '.'), got '${name}'`,
    );
  }
}

/**
 * The address of a mailbox as the Lambdas read it (shared/src/email): `name@example.com` or
 * `Display Name <name@example.com>`.
 */
export function addressOf(key: string, mailbox: string): string {
  const m = /^(?:[^<>]*<([^<>]+)>|([^<>]+))$/.exec(mailbox.trim());
  const address = (m?.[1] ?? m?.[2] ?? '').trim();
  if (!/^[^@\s,;<>"'()]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(address)) {
    throw new ConfigError(key, `must be an email address like reports@example.com, got '${mailbox}'`);
  }
  return address;
}

function checkEmail(key: string, value: string): void {
  addressOf(key, value);
}

/** Typed reads of context values that may arrive as strings. */
/**
 * The logs table's catalog, database and name. The stack's own table has defaults; a Glue table
 * the user has must be named; the S3 Tables integration's table has the names AWS gives it.
 */
function readTableNames(
  r: Reader,
  table: LogTable,
  format: LogsFormat,
  hivePaths: boolean,
): { catalog?: string; database: string; table: string } {
  if (table !== 's3tables' && r.optionalString('athenaCatalog') !== undefined) {
    // A Glue table is read from this account's catalog: the stack grants StartQuery that one table
    // there. (A catalog registered from another account would need that account's grants.)
    throw new ConfigError('athenaCatalog', 'names the S3 Tables catalog: set it only with logsTable=s3tables');
  }
  if (table === 'projected') {
    return {
      database: r.identifier('athenaDatabase', DEFAULTS.athenaDatabase),
      table: r.identifier('athenaTable', DEFAULTS.athenaTable),
    };
  }
  if (hivePaths) {
    throw new ConfigError(
      'logsHivePaths',
      `names the folders of the table this stack creates; with logsTable=${table} the query reads the table's own partitions`,
    );
  }
  if (table === 'glue') {
    for (const key of ['athenaDatabase', 'athenaTable'] as const) {
      if (r.optionalString(key) === undefined) {
        throw new ConfigError(key, 'with logsTable=glue, name your Glue table (-c athenaDatabase=<db> -c athenaTable=<table>)');
      }
    }
    return {
      database: r.identifier('athenaDatabase', DEFAULTS.athenaDatabase),
      table: r.identifier('athenaTable', DEFAULTS.athenaTable),
    };
  }
  if (format === 'text' && r.optionalString('logsFormat') !== undefined) {
    throw new ConfigError('logsFormat', "the S3 Tables integration's table has the structured records' columns: leave it unset");
  }
  const catalog = r.string('athenaCatalog', S3_TABLES_LOGS.catalog);
  if (!/^s3tablescatalog\/[a-z0-9-]{3,63}$/.test(catalog)) {
    throw new ConfigError('athenaCatalog', `with logsTable=s3tables it is s3tablescatalog/<table bucket name>, got '${catalog}'`);
  }
  return {
    catalog,
    database: r.identifier('athenaDatabase', S3_TABLES_LOGS.database),
    table: r.identifier('athenaTable', S3_TABLES_LOGS.table),
  };
}

class Reader {
  constructor(private readonly get: (key: ContextKey) => unknown) {}

  private raw(key: ContextKey): unknown {
    const v = this.get(key);
    return v === '' ? undefined : v;
  }

  optionalString(key: ContextKey): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ConfigError(key, `must be a string, got ${JSON.stringify(v)}`);
    return v.trim();
  }

  string(key: ContextKey, def: string): string {
    return this.optionalString(key) ?? def;
  }

  oneOf<T extends string>(key: ContextKey, allowed: readonly T[], def: T): T {
    const v = this.string(key, def);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got '${v}'`);
    }
    return v as T;
  }

  boolean(key: ContextKey, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`);
  }

  optionalNumber(key: ContextKey, min: number, max: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new ConfigError(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return n;
  }

  optionalInteger(key: ContextKey, min: number, max: number): number | undefined {
    const n = this.optionalNumber(key, min, max);
    if (n !== undefined && !Number.isInteger(n)) {
      throw new ConfigError(key, `must be a whole number, got ${n}`);
    }
    return n;
  }

  integer(key: ContextKey, def: number, min: number, max: number): number {
    return this.optionalInteger(key, min, max) ?? def;
  }

  /** A key prefix: '' or 'a/b/' (one trailing slash, no leading slash). */
  prefix(key: ContextKey, def: string): string {
    const v = this.string(key, def).replace(/^\/+/, '').replace(/\/+$/, '');
    if (/[\s'"\\`*?]/.test(v) || v.includes('//') || /[\u0000-\u001f]/.test(v)) {
      throw new ConfigError(
        key,
        `must be a key prefix like logs/ without spaces, quotes, backslashes, '*', '?' or '//', got '${v}'`,
      );
    }
    return v === '' ? '' : `${v}/`;
  }

  /** A Glue/Athena name, as shared/src/validate.rs accepts it. */
  identifier(key: ContextKey, def: string): string {
    const v = this.string(key, def);
    if (!/^[a-z_][a-z0-9_]{0,254}$/.test(v)) {
      throw new ConfigError(
        key,
        `must be lower-case letters, digits and underscores, starting with a letter or underscore, got '${v}'`,
      );
    }
    return v;
  }

  workgroup(key: ContextKey, def: string): string {
    const v = this.string(key, def);
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(v)) {
      throw new ConfigError(key, `must be 1-128 letters, digits, '.', '_' or '-', got '${v}'`);
    }
    return v;
  }

  date(key: ContextKey, def: string): string {
    const v = this.string(key, def);
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : undefined;
    if (!m || !d || d.toISOString().slice(0, 10) !== v) {
      throw new ConfigError(key, `must be a real date as YYYY-MM-DD, got '${v}'`);
    }
    return v;
  }

  region(key: ContextKey, def: string): string {
    const v = this.string(key, def);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(v)) {
      throw new ConfigError(key, `must be an AWS region like us-east-1, got '${v}'`);
    }
    return v;
  }

  optionalEmail(key: ContextKey): string | undefined {
    const v = this.optionalString(key);
    if (v !== undefined) checkEmail(key, v);
    return v;
  }

  /** A JSON value, given as JSON text on the command line or as JSON in cdk.json. */
  json(key: ContextKey, def: unknown): unknown {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string') return v;
    if (v.trim() === 'none') return 'none';
    try {
      return JSON.parse(v);
    } catch (e) {
      throw new ConfigError(key, `must be JSON: ${(e as Error).message}`);
    }
  }
}
