import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { SecretRef } from '../config/stages';

/**
 * Grants `grantee` read access to exactly one API-key secret, and returns the reference that the
 * function receives in its environment (`…_SECRET`): the secret's name, never its value.
 * SSM parameter names start with `/`; everything else is a Secrets Manager name.
 */
export function grantSecretRead(
  scope: Construct,
  id: string,
  ref: SecretRef,
  grantee: iam.IGrantable,
): string {
  if (ref.store === 'ssm') {
    if (!ref.name.startsWith('/')) {
      throw new Error(
        `SSM parameter names must start with "/" (got "${ref.name}") so the runtime can tell them apart.`,
      );
    }
    const parameter = ssm.StringParameter.fromSecureStringParameterAttributes(scope, id, {
      parameterName: ref.name,
    });
    parameter.grantRead(grantee);
    return ref.name;
  }
  if (ref.name.startsWith('/')) {
    throw new Error(
      `Secrets Manager names must not start with "/" (got "${ref.name}"): use store "ssm" for parameters.`,
    );
  }
  secretsmanager.Secret.fromSecretNameV2(scope, id, ref.name).grantRead(grantee);
  return ref.name;
}
