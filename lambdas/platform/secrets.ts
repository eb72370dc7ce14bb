import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/** Seconds a fetched key is reused by a warm function (key rotation takes effect within this). */
export const SECRET_CACHE_SECONDS = 300;

/**
 * Resolves an API key: the plain variable (local runs only) wins and nothing is fetched;
 * otherwise the secret named by `<NAME>_SECRET` is read at run time through Powertools
 * Parameters (cached for SECRET_CACHE_SECONDS): a Secrets Manager name or ARN. The value is
 * never logged. SSM parameters are not supported: both stages use Secrets Manager, and the SSM
 * client would add about 200 KiB to every bundle that reads a key.
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
    const value = await getSecret(ref, { maxAge: SECRET_CACHE_SECONDS });
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(
        `The secret ${ref} named by ${plainVar}_SECRET is empty or not a string; store the plain key as its value`,
      );
    }
    return value.trim();
  };
}
