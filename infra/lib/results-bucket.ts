import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag';
import { S3Prefix } from './s3-access';

export interface ResultsStorageProps {
  /** An existing bucket to use; undefined: create one. */
  readonly existingBucketName?: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  readonly stagingExpirationDays: number;
  readonly transitionToInfrequentAccessDays?: number;
  readonly expirationDays?: number;
}

/**
 * Where results, Athena's UNLOAD staging data and its metadata live:
 * `RESULT_PATH` = `s3://bucket/<prefix>`, with StartQuery's `_staging/` and
 * `_athena/` below it (shared/src/steps/start_query.rs).
 */
export class ResultsStorage extends Construct {
  readonly bucket: s3.IBucket;
  /** Set only when the stack created the bucket. */
  readonly createdBucket?: s3.Bucket;
  /** `RESULT_PATH`: the merged outputs, one folder per period. */
  readonly root: S3Prefix;
  /** UNLOAD's Parquet parts (`_staging/<label>/<execution>/`). */
  readonly staging: S3Prefix;
  /** Athena's metadata and manifests (`_athena/`). */
  readonly athenaMetadata: S3Prefix;

  constructor(scope: Construct, id: string, props: ResultsStorageProps) {
    super(scope, id);
    if (props.existingBucketName) {
      // Lifecycle rules of an existing bucket are its owner's: the README lists the ones to add.
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', props.existingBucketName);
    } else {
      const staging = `${props.prefix}_staging/`;
      const athena = `${props.prefix}_athena/`;
      const rules: s3.LifecycleRule[] = [
        // Failed or abandoned MergeResults uploads leave parts that are billed until aborted.
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // UNLOAD parts are merged right away; RemoveMeta deletes them when asked, this catches the rest.
        { id: 'ExpireStaging', prefix: staging, expiration: Duration.days(props.stagingExpirationDays) },
        // With the workgroup's location enforced, Athena writes its metadata and manifests here.
        { id: 'ExpireAthenaMetadata', prefix: athena, expiration: Duration.days(props.stagingExpirationDays) },
      ];
      if (props.transitionToInfrequentAccessDays !== undefined || props.expirationDays !== undefined) {
        rules.push({
          id: 'Results',
          prefix: props.prefix || undefined,
          transitions:
            props.transitionToInfrequentAccessDays === undefined
              ? undefined
              : [
                  {
                    storageClass: s3.StorageClass.INFREQUENT_ACCESS,
                    transitionAfter: Duration.days(props.transitionToInfrequentAccessDays),
                  },
                ],
          expiration: props.expirationDays === undefined ? undefined : Duration.days(props.expirationDays),
        });
      }
      this.createdBucket = new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        lifecycleRules: rules,
        // The reports are the product: deleting the stack keeps them.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        this.createdBucket,
        'AwsSolutions-S1',
        'Only this stack writes here (its Lambdas and Athena, through IAM roles scoped to the prefix); ' +
          'people read the reports through links presigned by SendReport. Server access logs of this bucket ' +
          'would need another bucket of their own; CloudTrail data events are the audit trail when one is needed ' +
          '(infra/README.md, "Results bucket").',
      );
      this.bucket = this.createdBucket;
    }
    this.root = new S3Prefix(this.bucket, props.prefix);
    this.staging = this.root.child('_staging/');
    this.athenaMetadata = this.root.child('_athena/');
  }
}
