import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Node.js Lambda handler as a bundle exports it. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What Lambda knows about a function when it invokes it. */
export interface FunctionSettings {
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly region: string;
}

/** The error Lambda reports when an invocation outlives the function's timeout. */
export class LambdaTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';
}

/** A Lambda context whose remaining time counts down from the function's timeout. */
export function lambdaContext(settings: FunctionSettings, startedAt = Date.now()): Context {
  const deadline = startedAt + settings.timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: settings.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${settings.region}:000000000000:function:${settings.functionName}`,
    memoryLimitInMB: String(settings.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Invokes a handler the way Lambda does: a fresh context, the event and the result passed as
 * JSON (copies, as over the wire), and the invocation cut off with a timeout error when it
 * outlives the function's configured timeout.
 */
export async function invokeLikeLambda(
  handler: LambdaHandler,
  event: unknown,
  settings: FunctionSettings,
): Promise<unknown> {
  const context = lambdaContext(settings);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LambdaTimeoutError(
            `Task timed out after ${settings.timeoutSeconds.toFixed(2)} seconds`,
          ),
        ),
      settings.timeoutSeconds * 1000,
    );
    timer.unref();
  });
  try {
    const result = await Promise.race([
      handler(JSON.parse(JSON.stringify(event)) as unknown, context),
      timeout,
    ]);
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
  } finally {
    clearTimeout(timer);
  }
}

/** The payload Lambda returns for a function error. */
export function errorPayload(err: unknown): { errorType: string; errorMessage: string } {
  return err instanceof Error
    ? { errorType: err.name, errorMessage: err.message }
    : { errorType: 'Error', errorMessage: String(err) };
}
