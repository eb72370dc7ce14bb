import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

/** What one deployed invocation returned. */
export interface RemoteInvocation {
  readonly functionName: string;
  readonly region: string;
  readonly statusCode?: number;
  readonly executedVersion?: string;
  readonly functionError?: string;
  /** The response payload: parsed JSON, or the raw text when it is not JSON. */
  readonly payload: unknown;
  /** The decoded tail of the execution log (Lambda returns the last 4 KB). */
  readonly logTail: string;
  readonly durationMs: number;
}

/** Decodes a Lambda response payload: JSON when it parses, else the text. */
export function decodePayload(bytes: Uint8Array | undefined): unknown {
  if (!bytes || bytes.length === 0) return null;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Invokes a deployed function synchronously with the log tail (`LogType: Tail`), as
 * `aws lambda invoke --log-type Tail` does, and decodes the payload and the base64 log.
 */
export async function invokeRemote(opts: {
  readonly functionName: string;
  readonly region: string;
  readonly event: unknown;
  readonly client?: LambdaClient;
}): Promise<RemoteInvocation> {
  const client = opts.client ?? new LambdaClient({ region: opts.region });
  const started = Date.now();
  try {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: opts.functionName,
        InvocationType: 'RequestResponse',
        LogType: 'Tail',
        Payload: Buffer.from(JSON.stringify(opts.event)),
      }),
    );
    return {
      functionName: opts.functionName,
      region: opts.region,
      statusCode: out.StatusCode,
      executedVersion: out.ExecutedVersion,
      functionError: out.FunctionError,
      payload: decodePayload(out.Payload),
      logTail: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : '',
      durationMs: Date.now() - started,
    };
  } finally {
    if (!opts.client) client.destroy();
  }
}

/** A hint for the usual reasons a deployed invocation cannot be made. */
export function remoteErrorHint(err: unknown, functionName: string, region: string): string {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError' || /credential/i.test(message))
    return 'No usable AWS credentials: set AWS_PROFILE (or run "aws sso login"), or use --stage local.';
  if (name === 'ResourceNotFoundException')
    return `${functionName} does not exist in ${region}: is the stage deployed (npm run deploy:<stage>), and is --region right?`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied')
    return `Your credentials may not call lambda:InvokeFunction on ${functionName}.`;
  if (name === 'UnrecognizedClientException' || name === 'ExpiredTokenException')
    return 'The AWS credentials are invalid or expired: refresh them (e.g. "aws sso login").';
  return '';
}
