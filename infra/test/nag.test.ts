import { generateKeyPairSync } from 'crypto';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { synth } from './helpers';

/** Configurations that between them create every resource and statement the stack can have. */
const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'everything on': {
    tracing: true,
    logRemoval: true,
    fromEmail: 'reports@acme.example',
    targetEmailAddress: 'ops@acme.example',
    createEmailIdentity: true,
    sesSandbox: true,
    alarmEmail: 'oncall@acme.example',
    resultsTransitionDays: 30,
    resultsExpirationDays: 730,
    schedules: {
      weekly: { email: true },
      monthly: { removeMeta: true, removeOriginalLogs: true },
      quarterly: { selectAll: true },
    },
  },
  'download links': {
    downloadLinks: {
      publicKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }),
      privateKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3la-link-key-AbCdEf',
    },
  },
  "the S3 Tables integration's table": { logsTable: 's3tables' },
  'simple layout, existing bucket, no schedules, no GeoIP': {
    logsLayout: 'simple',
    logsPrefix: '',
    resultsBucket: 'acme-reports',
    resultsPrefix: '/',
    schedules: 'none',
    geoip: false,
  },
};

interface Finding {
  rule: string;
  path: string;
}

function findings(app: App): Finding[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, path: (r as { constructPath?: string }).constructPath ?? '' })),
  );
}

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe.each(Object.entries(CONFIGURATIONS))('cdk-nag AwsSolutions (%s)', (_, context) => {
  const { app } = synth(context);

  test('no finding is left unacknowledged', () => {
    expect(findings(app)).toEqual([]);
  });

  test('each acknowledgement gives a reason of its own', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(60);
    }
  });

  test('each acknowledgement covers a real finding at its construct (none is stale or blanket)', () => {
    // The same stack with every acknowledgement dropped shows what they cover.
    const spy = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let raw: Finding[];
    try {
      raw = findings(synth(context).app);
    } finally {
      spy.mockRestore();
    }
    for (const ack of acknowledgements(app)) {
      const covered = raw.filter((f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)));
      expect({ ack: `${ack.path}: ${ack.id}`, covered: covered.length > 0 }).toEqual({
        ack: `${ack.path}: ${ack.id}`,
        covered: true,
      });
    }
    // And nothing is acknowledged on the stack as a whole.
    for (const ack of acknowledgements(app)) {
      expect(ack.path.split('/').length).toBeGreaterThan(1);
    }
  });
});

test('the app registers the checks so that a finding fails the synth (as bin/s3la.ts does)', () => {
  const app = new App();
  const stack = new Stack(app, 'Probe');
  new s3.Bucket(stack, 'Unchecked');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).toThrow(/AwsSolutions-S1\b/);
});
