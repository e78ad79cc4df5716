import { generateKeyPairSync } from 'crypto';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError } from '../lib/config';
import { readDownloadLinks } from '../lib/download-links';
import { describe as describeStatements, logicalId, render, roleStatements, Statement, synth } from './helpers';

function publicKeyPem(bits = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

const PEM = publicKeyPem();
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3la-link-key-AbCdEf';
const LINKS = { downloadLinks: { publicKeyPem: PEM, privateKeySecretArn: SECRET_ARN } };

function only(template: Template, type: string): Record<string, unknown> {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return (resources[0] as { Properties: Record<string, unknown> }).Properties;
}

describe('context downloadLinks', () => {
  test('absent or "none": no links of CloudFront', () => {
    expect(readDownloadLinks(undefined)).toBeUndefined();
    expect(readDownloadLinks('none')).toBeUndefined();
  });

  test('given as JSON on the command line, as cdk synth -c passes it', () => {
    const { stack } = synth({ downloadLinks: JSON.stringify(LINKS.downloadLinks) });
    expect(stack.downloadLinks?.privateKeySecretArn).toBe(SECRET_ARN);
  });

  test.each([
    ['a string that is not JSON', 'yes', /^context downloadLinks: must be JSON/],
    ['not an object', [1], /^context downloadLinks: must be \{"publicKeyPem"/],
    ['an unknown option', { ...LINKS.downloadLinks, keyPairId: 'K1' }, /^context downloadLinks: has no option keyPairId/],
    ['no public key', { privateKeySecretArn: SECRET_ARN }, /^context downloadLinks.publicKeyPem: is required/],
    ['a public key that is not PEM', { ...LINKS.downloadLinks, publicKeyPem: 'ssh-rsa AAAA' }, /^context downloadLinks.publicKeyPem: is not a public key in PEM/],
    ['an RSA key of another size', { ...LINKS.downloadLinks, publicKeyPem: publicKeyPem(1024) }, /^context downloadLinks.publicKeyPem: must be an RSA 2048 public key.*rsa of 1024 bits/],
    ['a secret name, not its ARN', { ...LINKS.downloadLinks, privateKeySecretArn: 's3la-link-key' }, /^context downloadLinks.privateKeySecretArn: must be the complete ARN/],
    ['an ARN without the suffix', { ...LINKS.downloadLinks, privateKeySecretArn: SECRET_ARN.slice(0, -7) }, /^context downloadLinks.privateKeySecretArn/],
  ])('refused, naming the option: %s', (_, value, message) => {
    expect(() => synth({ downloadLinks: value })).toThrow(ConfigError);
    expect(() => synth({ downloadLinks: value })).toThrow(message);
  });

  test('refused with an existing results bucket, whose policy the stack cannot change', () => {
    expect(() => synth({ ...LINKS, resultsBucket: 'acme-reports' })).toThrow(
      /^context downloadLinks: needs the results bucket this stack creates/,
    );
  });
});

describe('week-long download links', () => {
  const { template } = synth(LINKS);
  const keyGroup = logicalId(template, 'AWS::CloudFront::KeyGroup', 'DownloadLinksKeyGroup');
  const publicKey = logicalId(template, 'AWS::CloudFront::PublicKey', 'DownloadLinksPublicKey');
  const distribution = logicalId(template, 'AWS::CloudFront::Distribution', 'DownloadLinksDistribution');
  const accessControl = logicalId(template, 'AWS::CloudFront::OriginAccessControl', 'DownloadLinksOriginAccessControl');
  const bucket = logicalId(template, 'AWS::S3::Bucket', 'ResultsBucket');

  test('the public key, in the key group the distribution trusts', () => {
    const key = only(template, 'AWS::CloudFront::PublicKey').PublicKeyConfig as Record<string, unknown>;
    expect(key.EncodedKey).toBe(PEM);
    const group = only(template, 'AWS::CloudFront::KeyGroup').KeyGroupConfig as Record<string, unknown>;
    expect(group.Items).toEqual([{ Ref: publicKey }]);
  });

  test('the distribution: signed URLs only, HTTPS only, GET and HEAD, the results bucket through OAC', () => {
    const config = only(template, 'AWS::CloudFront::Distribution').DistributionConfig as Record<string, any>;
    const behavior = config.DefaultCacheBehavior;
    expect(behavior.TrustedKeyGroups).toEqual([{ Ref: keyGroup }]);
    expect(behavior.TrustedSigners).toBeUndefined();
    expect(behavior.ViewerProtocolPolicy).toBe('https-only');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.Origins).toHaveLength(1);
    const [origin] = config.Origins;
    expect(render(origin.DomainName)).toBe(`<${bucket}.RegionalDomainName>`);
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [accessControl, 'Id'] });
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(origin.OriginPath).toBeUndefined();
    const oac = only(template, 'AWS::CloudFront::OriginAccessControl').OriginAccessControlConfig as Record<string, unknown>;
    expect(oac).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
  });

  test('the bucket lets only that distribution read, and only the results prefix', () => {
    const policy = only(template, 'AWS::S3::BucketPolicy').PolicyDocument as { Statement: Array<Statement & { Principal?: unknown }> };
    const cloudfront = policy.Statement.filter((s) => JSON.stringify(s.Principal ?? '').includes('cloudfront'));
    expect(cloudfront).toHaveLength(1);
    const [s] = cloudfront;
    expect(s.Effect).toBe('Allow');
    expect(s.Action).toBe('s3:GetObject');
    expect(render(s.Resource)).toBe(`<${bucket}.Arn>/s3la/*`);
    expect(render((s.Condition as any).StringEquals['AWS:SourceArn'])).toBe(
      `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distribution}>`,
    );
  });

  test('SendReport reads exactly that secret and gets the three settings', () => {
    const secretStatements = describeStatements(roleStatements(template, 'SendReportRole')).filter((s) =>
      s.includes('secretsmanager'),
    );
    expect(secretStatements).toEqual([`Allow secretsmanager:GetSecretValue on ${SECRET_ARN}`]);
    for (const role of ['ComputePeriod', 'StartQuery', 'QueryStatus', 'MergeResults', 'RemoveMeta', 'RemoveOriginalLogs']) {
      expect(JSON.stringify(roleStatements(template, `${role}Role`))).not.toContain('secretsmanager');
    }
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'SendReport')];
    const env = fn.Properties.Environment.Variables as Record<string, unknown>;
    expect(render(env.LINK_BASE_URL)).toBe(`https://<${distribution}.DomainName>`);
    expect(env.LINK_KEY_PAIR_ID).toEqual({ Ref: publicKey });
    expect(env.LINK_PRIVATE_KEY_SECRET).toBe(SECRET_ARN);
  });

  test('without the option: no distribution, no secret, no link settings', () => {
    const plain = synth().template;
    for (const type of ['AWS::CloudFront::Distribution', 'AWS::CloudFront::PublicKey', 'AWS::CloudFront::KeyGroup']) {
      expect(plain.findResources(type)).toEqual({});
    }
    expect(JSON.stringify(plain.toJSON())).not.toMatch(/LINK_|secretsmanager/);
  });
});
