import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import { Construct } from 'constructs';
import { S3Prefix } from './s3-access';

export interface QueryWorkgroupProps {
  readonly name: string;
  /** Where Athena writes query metadata and manifests. */
  readonly resultLocation: S3Prefix;
  readonly bytesScannedCutoffPerQuery: number;
}

/** The Athena workgroup StartQuery submits to (`ATHENA_WORKGROUP`). */
export class QueryWorkgroup extends Construct {
  readonly name: string;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    const workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.name,
      description: 'S3 Logs Analyzer: the UNLOAD queries of the report state machine',
      state: 'ENABLED',
      // Deleting the stack also deletes the workgroup's saved queries instead of failing.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        // Queries run with the workgroup's result location, encryption and limits, whatever
        // the client asks: a query can neither scan past the cutoff nor write elsewhere.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        resultConfiguration: {
          outputLocation: props.resultLocation.uri,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.name = workgroup.ref;
    this.arn = Stack.of(this).formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: workgroup.ref,
    });
  }
}
