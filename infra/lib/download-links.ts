import { createPublicKey } from 'crypto';
import { Aws } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigError } from './config';
import { acknowledge } from './nag';
import { S3Prefix } from './s3-access';

/** Context `downloadLinks`: week-long CloudFront signed links in the report email. */
export interface DownloadLinksConfig {
  /** The RSA 2048 public key, PEM (`BEGIN PUBLIC KEY`), that CloudFront checks signatures with. */
  readonly publicKeyPem: string;
  /** The complete ARN of the Secrets Manager secret holding the private key PEM (SecretString). */
  readonly privateKeySecretArn: string;
}

const KEY = 'downloadLinks';
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/**
 * Reads context `downloadLinks` (JSON, already parsed): undefined, or both keys, checked, with
 * errors naming the option.
 */
export function readDownloadLinks(value: unknown): DownloadLinksConfig | undefined {
  if (value === undefined || value === null || value === 'none') return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(KEY, `must be {"publicKeyPem": "...", "privateKeySecretArn": "arn:..."}, got ${JSON.stringify(value)}`);
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'publicKeyPem' && k !== 'privateKeySecretArn');
  if (unknown.length > 0) {
    throw new ConfigError(KEY, `has no option ${unknown.join(', ')} (only publicKeyPem and privateKeySecretArn)`);
  }
  const pem = o.publicKeyPem;
  if (typeof pem !== 'string' || pem.trim() === '') {
    throw new ConfigError(`${KEY}.publicKeyPem`, 'is required: the public key PEM (openssl rsa -pubout, infra/README.md)');
  }
  let details: { type?: string; bits?: number };
  try {
    const key = createPublicKey(pem.trim());
    details = { type: key.asymmetricKeyType, bits: key.asymmetricKeyDetails?.modulusLength };
  } catch (e) {
    throw new ConfigError(`${KEY}.publicKeyPem`, `is not a public key in PEM: ${(e as Error).message}`);
  }
  if (!pem.trim().startsWith('-----BEGIN PUBLIC KEY-----') || details.type !== 'rsa' || details.bits !== 2048) {
    throw new ConfigError(
      `${KEY}.publicKeyPem`,
      `must be an RSA 2048 public key as "-----BEGIN PUBLIC KEY-----" PEM (CloudFront's format; ` +
        `SendReport signs with RSA-SHA1), got ${details.type ?? 'another key'} of ${details.bits ?? '?'} bits`,
    );
  }
  const arn = o.privateKeySecretArn;
  if (typeof arn !== 'string' || !SECRET_ARN.test(arn.trim())) {
    throw new ConfigError(
      `${KEY}.privateKeySecretArn`,
      'must be the complete ARN of a Secrets Manager secret, with its 6-character suffix ' +
        `(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf, as create-secret prints it), got ${JSON.stringify(arn)}`,
    );
  }
  return { publicKeyPem: pem.trim() + '\n', privateKeySecretArn: arn.trim() };
}

export interface DownloadLinksProps extends DownloadLinksConfig {
  /** The results bucket; created by this stack, so that its policy can admit the distribution. */
  readonly bucket: s3.Bucket;
  /** `RESULT_PATH`: the only prefix the distribution may read. */
  readonly results: S3Prefix;
}

/**
 * An S3 origin reached through `accessControl`, with no bucket policy of CDK's making: CDK's
 * OAC origin grants the distribution every object of the bucket, this stack only the results
 * prefix (DownloadLinks below).
 */
class OriginAccessControlled extends origins.S3BucketOrigin {
  constructor(
    bucket: s3.IBucket,
    private readonly accessControl: cloudfront.IOriginAccessControl,
  ) {
    super(bucket);
  }

  bind(scope: Construct, options: cloudfront.OriginBindOptions): cloudfront.OriginBindConfig {
    const bound = super.bind(scope, options);
    return {
      ...bound,
      originProperty: { ...bound.originProperty!, originAccessControlId: this.accessControl.originAccessControlId },
    };
  }
}

/**
 * Week-long download links (infra/README.md, "Week-long download links"): a CloudFront
 * distribution over the results prefix that serves only URLs signed with the private key of
 * `publicKeyPem` (its key group is trusted, unsigned requests are refused), over HTTPS only,
 * reading the bucket through Origin Access Control. SendReport signs the links with the
 * private key it reads from the secret at start (shared/src/links.rs).
 */
export class DownloadLinks extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly publicKey: cloudfront.PublicKey;
  readonly keyGroup: cloudfront.KeyGroup;
  readonly privateKeySecretArn: string;

  constructor(scope: Construct, id: string, props: DownloadLinksProps) {
    super(scope, id);
    this.privateKeySecretArn = props.privateKeySecretArn;
    this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
      encodedKey: props.publicKeyPem,
      comment: 'S3 Logs Analyzer: checks the signature of report download links',
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: [this.publicKey],
      comment: 'S3 Logs Analyzer: keys whose signed URLs the download distribution accepts',
    });
    const accessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'S3 Logs Analyzer: the download distribution reads the results bucket',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'S3 Logs Analyzer: signed download links to the report results',
      defaultBehavior: {
        origin: new OriginAccessControlled(props.bucket, accessControl),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        // A re-run replaces a period's csv.gz under the same key: always the current object.
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        trustedKeyGroups: [this.keyGroup],
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });
    // Only this distribution, and only the results prefix: not the staging data, nor the rest.
    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DownloadLinksDistributionReadsResults',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [props.bucket.arnForObjects(`${props.results.prefix}*`)],
        conditions: {
          StringEquals: {
            'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${this.distribution.distributionId}`,
          },
        },
      }),
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'Recipients of the report may be anywhere; every request must carry a URL signed by SendReport ' +
        'for one object and one week, which is the access control, not the viewer country.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'Only signed URLs for one object are served (trusted key group, no unsigned access); a WAF web ' +
        'ACL would add a monthly charge and no protection a signature check does not already give.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'Access logs of the downloads would need another bucket of their own; CloudFront standard metrics ' +
        'count the requests, and the links are a convenience beside the s3:// locations (infra/README.md).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      "The distribution uses CloudFront's default *.cloudfront.net certificate (no custom domain), " +
        'for which CloudFront fixes the viewer TLS policy; plain HTTP is refused (HTTPS only).',
    );
  }

  /** The settings SendReport signs with (shared/src/links.rs), and the one secret it may read. */
  grantSigning(fn: lambda.Function): void {
    fn.addEnvironment('LINK_BASE_URL', `https://${this.distribution.distributionDomainName}`);
    fn.addEnvironment('LINK_KEY_PAIR_ID', this.publicKey.publicKeyId);
    fn.addEnvironment('LINK_PRIVATE_KEY_SECRET', this.privateKeySecretArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.privateKeySecretArn],
      }),
    );
  }
}
