import * as z from './zod';
import { grouped } from './text';
import { normaliseTicker } from './ticker';

/**
 * The event shapes each function accepts, and one parser per function that names what was
 * wrong when an event matches none of them. Pure: no SDK, no environment. One module for all
 * functions (not one per feature): it is the input contract the handlers, `npm run invoke` and
 * the registry's operator-facing shapes (`lib/functions.ts`) share, and most of it (scheduled and
 * SQS envelopes, the error text) is common to both features.
 */

/** Thrown for an event that no function contract accepts; the message says what to send instead. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/**
 * Most tickers a manual `processTickers` event may list: 10,000, one refresh job's worth
 * (MAX_TICKERS_PER_JOB), so a manual run queues a single job. A longer list is refused whole
 * (nothing is queued) with a message that says to split it; the nightly run is not capped by
 * this: it splits every held ticker into jobs (test/faults/limits.faults.test.ts, case I02).
 */
export const MAX_TICKERS_PER_MANUAL_RUN = 10_000;

/** The one symbol rule (re-exported: the handlers' parsers and the fan-out import it from here). */
export { normaliseTicker } from './ticker';

const scheduledEvent = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.string(),
});

const sqsEvent = z.object({
  Records: z
    .array(
      z.object({
        messageId: z.string(),
        body: z.string(),
        eventSource: z.literal('aws:sqs'),
        attributes: z.optional(z.record(z.string(), z.string())),
        messageAttributes: z.optional(z.record(z.string(), z.unknown())),
      }),
    )
    .check(z.minLength(1)),
});

export type SqsRecordLike = z.infer<typeof sqsEvent>['Records'][number];

const describe = (issues: z.core.$ZodIssue[]) =>
  issues.map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`).join('; ');

function fail(fn: string, expected: string[], event: unknown, detail?: string): never {
  const got =
    event === null || typeof event !== 'object'
      ? JSON.stringify(event)
      : `keys [${Object.keys(event).join(', ')}]`;
  throw new InvalidEventError(
    `${fn} cannot handle this event (${got})${detail ? `: ${detail}` : ''}. Expected one of: ${expected.join(' | ')}.`,
  );
}

const isObject = (e: unknown): e is Record<string, unknown> =>
  typeof e === 'object' && e !== null && !Array.isArray(e);

export type ProcessTickersEvent =
  { kind: 'nightly'; scheduledAt?: string } | { kind: 'tickers'; tickers: string[] };

/** `processTickers`: a schedule event or `{}` (the nightly run), or `{"tickers": [...]}`. */
export function parseProcessTickersEvent(event: unknown): ProcessTickersEvent {
  const expected = ['an EventBridge scheduled event', '{}', '{"tickers": ["NVDA", "AAPL"]}'];
  if (isObject(event) && Object.keys(event).length === 0) return { kind: 'nightly' };
  const scheduled = scheduledEvent.safeParse(event);
  if (scheduled.success) return { kind: 'nightly', scheduledAt: scheduled.data.time };
  if (isObject(event) && 'tickers' in event) {
    const parsed = z
      .strictObject({
        tickers: z.array(z.unknown()).check(
          z.minLength(1, 'must list at least one ticker'),
          z.maxLength(MAX_TICKERS_PER_MANUAL_RUN, {
            error: (iss) =>
              `lists ${Array.isArray(iss.input) ? grouped(iss.input.length) : 'too many'} tickers, more than the ${grouped(MAX_TICKERS_PER_MANUAL_RUN)} one invocation accepts (MAX_TICKERS_PER_MANUAL_RUN); nothing was queued: split the list across several invocations, or send {} to refresh every held ticker`,
          }),
        ),
      })
      .safeParse(event);
    if (!parsed.success) fail('processTickers', expected, event, describe(parsed.error.issues));
    return { kind: 'tickers', tickers: parsed.data.tickers as string[] };
  }
  return fail('processTickers', expected, event);
}

export type ProcessTickerEvent =
  { kind: 'sqs'; records: SqsRecordLike[] } | { kind: 'manual'; tickers: string[] };

/** `processTicker`: an SQS batch, or a manual `{"ticker": "NVDA"}`. */
export function parseProcessTickerEvent(event: unknown): ProcessTickerEvent {
  const expected = ['an SQS event from ticker-processing-queue', '{"ticker": "NVDA"}'];
  const sqs = sqsEvent.safeParse(event);
  if (sqs.success) return { kind: 'sqs', records: sqs.data.Records };
  if (isObject(event) && 'ticker' in event) {
    const parsed = z.strictObject({ ticker: z.string() }).safeParse(event);
    if (!parsed.success) fail('processTicker', expected, event, describe(parsed.error.issues));
    const t = normaliseTicker(parsed.data.ticker);
    if (!t.ok) fail('processTicker', expected, event, t.reason);
    return { kind: 'manual', tickers: [t.ticker] };
  }
  return fail('processTicker', expected, event);
}

export type AnalyzePortfoliosEvent = { kind: 'nightly'; scheduledAt?: string };

/** `analyzePortfolios`: a schedule event or `{}`. */
export function parseAnalyzePortfoliosEvent(event: unknown): AnalyzePortfoliosEvent {
  const expected = ['an EventBridge scheduled event', '{}'];
  if (isObject(event) && Object.keys(event).length === 0) return { kind: 'nightly' };
  const scheduled = scheduledEvent.safeParse(event);
  if (scheduled.success) return { kind: 'nightly', scheduledAt: scheduled.data.time };
  return fail('analyzePortfolios', expected, event);
}

/** `evaluateAnalyses` (the score track record): a schedule event or `{}`. */
export function parseEvaluateAnalysesEvent(event: unknown): { kind: 'nightly' } {
  if (isObject(event) && Object.keys(event).length === 0) return { kind: 'nightly' };
  if (scheduledEvent.safeParse(event).success) return { kind: 'nightly' };
  return fail('evaluateAnalyses', ['an EventBridge scheduled event', '{}'], event);
}

export type AnalyzePortfolioEvent =
  | { kind: 'sqs'; records: SqsRecordLike[] }
  | { kind: 'byId'; portfolioId: string; force: boolean }
  | { kind: 'byName'; portfolioName: string; force: boolean };

/** `analyzePortfolio`: an SQS batch, `{"portfolio_id": "<uuid>"}` or `{"portfolio_name": "…"}` (+ `"force": true`). */
export function parseAnalyzePortfolioEvent(event: unknown): AnalyzePortfolioEvent {
  const expected = [
    'an SQS event from portfolio-analysis-queue',
    '{"portfolio_id": "<uuid>"}',
    '{"portfolio_name": "ZSM Seven"}',
    '(either with "force": true to re-run)',
  ];
  const sqs = sqsEvent.safeParse(event);
  if (sqs.success) return { kind: 'sqs', records: sqs.data.Records };
  if (isObject(event) && ('portfolio_id' in event || 'portfolio_name' in event)) {
    const parsed = z
      .union([
        z.strictObject({
          portfolio_id: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
          force: z.optional(z.boolean()),
        }),
        z.strictObject({
          portfolio_name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
          force: z.optional(z.boolean()),
        }),
      ])
      .safeParse(event);
    if (!parsed.success) {
      fail(
        'analyzePortfolio',
        expected,
        event,
        'give exactly one of portfolio_id or portfolio_name, a non-empty string of at most 100 characters',
      );
    }
    const d = parsed.data;
    return 'portfolio_id' in d
      ? { kind: 'byId', portfolioId: d.portfolio_id, force: d.force ?? false }
      : { kind: 'byName', portfolioName: d.portfolio_name, force: d.force ?? false };
  }
  return fail('analyzePortfolio', expected, event);
}
