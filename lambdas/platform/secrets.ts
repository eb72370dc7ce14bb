import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';

/** Seconds a fetched key is reused by a warm function (key rotation takes effect within this). */
export const SECRET_CACHE_SECONDS = 300;

/**
 * Resolves an API key: the plain variable (local runs only) wins and nothing is fetched;
 * otherwise the secret named by `<NAME>_SECRET` is read at run time through Powertools
 * Parameters (cached for SECRET_CACHE_SECONDS). SSM parameter names start with `/` (or are
 * SSM ARNs); anything else is a Secrets Manager name or ARN. The value is never logged.
 */
export function apiKeyResolver(
  plainVar: string,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<string> {
  return async () => {
    const plain = env[plainVar];
    if (plain) return plain;
    const ref = env[`${plainVar}_SECRET`];
    if (!ref) {
      throw new Error(
        `Neither ${plainVar} (local runs) nor ${plainVar}_SECRET (deployed: the secret's name) is set`,
      );
    }
    const isSsm = ref.startsWith('/') || ref.startsWith('arn:aws:ssm:');
    const value = isSsm
      ? await getParameter(ref, { decrypt: true, maxAge: SECRET_CACHE_SECONDS })
      : await getSecret(ref, { maxAge: SECRET_CACHE_SECONDS });
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(
        `The secret ${ref} named by ${plainVar}_SECRET is empty or not a string; store the plain key as its value`,
      );
    }
    return value.trim();
  };
}
