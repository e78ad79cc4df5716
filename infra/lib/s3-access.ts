import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeWildcardResource } from './nag';

/**
 * A key prefix in a bucket, and the narrow S3 statements the steps get on it.
 * The grant helpers of aws-s3 (`grantRead(role, pattern)`) add `s3:List*` and
 * `s3:GetBucket*` on the whole bucket; these statements list only under the
 * prefix (an `s3:prefix` condition) and name each action.
 */
export class S3Prefix {
  constructor(
    readonly bucket: s3.IBucket,
    /** '' or ending in '/'. */
    readonly prefix: string,
  ) {}

  /** `s3://bucket/prefix/`, as the Lambdas' settings take it. */
  get uri(): string {
    return `s3://${this.bucket.bucketName}/${this.prefix}`;
  }

  /** A prefix below this one: `child('_staging/')`. */
  child(sub: string): S3Prefix {
    return new S3Prefix(this.bucket, `${this.prefix}${sub}`);
  }

  /** Every object under the prefix. */
  get objectsArn(): string {
    return this.bucket.arnForObjects(`${this.prefix}*`);
  }
}

/**
 * Allows `actions` on the objects under each prefix. Object keys are made at
 * run time (per period, per execution), so the resource is the prefix and a
 * wildcard; the cdk-nag finding for it is acknowledged here with `why`.
 */
export function allowObjects(
  role: iam.IRole,
  actions: string[],
  prefixes: S3Prefix[],
  why: string,
): iam.PolicyStatement {
  const statement = new iam.PolicyStatement({
    actions,
    resources: prefixes.map((p) => p.objectsArn),
  });
  role.addToPrincipalPolicy(statement);
  for (const p of prefixes) {
    acknowledgeWildcardResource(
      role,
      p.objectsArn,
      `${why} Object keys are named per period and execution at run time, so the grant is ` +
        `the prefix ${p.prefix || '(bucket root)'} and its objects, never other prefixes.`,
    );
  }
  return statement;
}

/** Allows ListBucket on `bucket`, only for keys under `prefixes`. */
export function allowListUnder(role: iam.IRole, prefixes: S3Prefix[]): iam.PolicyStatement {
  const buckets = new Set(prefixes.map((p) => p.bucket));
  if (buckets.size !== 1) throw new Error('allowListUnder: prefixes of one bucket only');
  // The bucket's root is the whole bucket: a listing without a prefix carries no s3:prefix
  // key, which a condition would refuse.
  const wholeBucket = prefixes.some((p) => p.prefix === '');
  const statement = new iam.PolicyStatement({
    actions: ['s3:ListBucket'],
    resources: [prefixes[0].bucket.bucketArn],
    conditions: wholeBucket ? undefined : { StringLike: { 's3:prefix': prefixes.map((p) => `${p.prefix}*`) } },
  });
  role.addToPrincipalPolicy(statement);
  return statement;
}
