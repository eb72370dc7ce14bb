import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SecretRef } from '../config/stages';

/**
 * Grants `grantee` read access to exactly one API-key secret, and returns the reference that the
 * function receives in its environment (`…_SECRET`): the secret's name, never its value.
 * Secrets Manager only: both stages use it, and dropping the SSM branch keeps `client-ssm`
 * (about 200 KiB) out of the bundles.
 */
export function grantSecretRead(
  scope: Construct,
  id: string,
  ref: SecretRef,
  grantee: iam.IGrantable,
): string {
  if (ref.name.startsWith('/')) {
    throw new Error(
      `Secrets Manager names must not start with "/" (got "${ref.name}"): store the key in Secrets Manager (SSM parameters are not supported).`,
    );
  }
  secretsmanager.Secret.fromSecretNameV2(scope, id, ref.name).grantRead(grantee);
  return ref.name;
}
