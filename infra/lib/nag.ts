import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * cdk-nag acknowledgements, each at the one construct it concerns and with
 * its reason. cdk-nag (v3) names a wildcard finding after the resource as
 * written in the template (`AwsSolutions-IAM5[Resource::<Bucket.Arn>/p/*]`);
 * `wildcardResourceFinding` renders a resource the same way, so an
 * acknowledgement covers exactly the statement it was written for.
 */

/** Acknowledges one cdk-nag rule (or finding) on `scope` and its children. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges the IAM5 finding of one wildcard resource granted to `grantee`. */
export function acknowledgeWildcardResource(grantee: IConstruct, resource: string, reason: string): void {
  const finding = `Resource::${flattenCfnReference(Stack.of(grantee).resolve(resource))}`;
  acknowledge(grantee, `AwsSolutions-IAM5[${finding}]`, reason);
}

/**
 * A resolved CloudFormation value as one string: `<Logical.Attr>` for
 * Fn::GetAtt, `<Logical>` for Ref, Fn::Join joined. The same rendering as
 * cdk-nag's utils/flatten-cfn-reference.
 */
export function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenCfnReference(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenCfnReference(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenCfnReference(o.Ref)}>`;
  return JSON.stringify(node);
}
