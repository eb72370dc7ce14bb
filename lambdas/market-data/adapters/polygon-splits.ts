/**
 * Polygon's stock splits (`GET /stocks/v1/splits`), read through every `next_url` page and
 * validated at the edge: a split we cannot read is an error, never a split silently ignored
 * (that would leave a ticker's history on two price bases).
 */
import * as z from '../../platform/zod';
import { clip } from '../../platform/text';
import { polygonError } from './polygon-error';
import { buildUrl, followUrl, parseEnvelope, type Target } from './polygon-responses';

/** One executed (or announced) split: r = splitTo / splitFrom shares after / before. */
export interface StockSplit {
  readonly ticker: string;
  /** First session traded on the new basis, `YYYY-MM-DD`. */
  readonly executionDate: string;
  readonly splitFrom: number;
  readonly splitTo: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/**
 * Results per page: 1,000, a limit every version of the endpoint accepts (the legacy one's
 * maximum); a normal night has far fewer splits, so it is one request. No `sort` is sent (the
 * client sorts), so no sort syntax of one version can make the other answer 400.
 */
export const SPLITS_PAGE_LIMIT = 1000;

// z.number() already refuses Infinity and NaN (zod 4).
const positive = z.number().check(z.positive());
const splitSchema = z.object({
  ticker: z.string().check(z.minLength(1), z.maxLength(20)),
  execution_date: z.string().check(z.regex(DATE_RE)),
  split_from: positive,
  split_to: positive,
  adjustment_type: z.optional(z.string()),
  historical_adjustment_factor: z.optional(z.number()),
});

type GetJson = (url: URL, endpoint: 'splits') => Promise<unknown>;

/**
 * Every split with an execution date from `from` to `to` inclusive, ascending by date, all pages
 * followed (at most `maxPages`).
 */
export async function fetchSplits(
  ctx: { readonly target: Target; readonly getJson: GetJson; readonly maxPages: number },
  from: string,
  to: string,
): Promise<StockSplit[]> {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ])
    if (!DATE_RE.test(value))
      throw new RangeError(`${name} must be a YYYY-MM-DD date, got ${JSON.stringify(value)}`);
  if (from > to) throw new RangeError(`from (${from}) is after to (${to})`);
  const what = `Polygon splits ${from}..${to}`;
  const out: StockSplit[] = [];
  const seen = new Set<string>();
  let url: URL | undefined = buildUrl(ctx.target, '/stocks/v1/splits', {
    'execution_date.gte': from,
    'execution_date.lte': to,
    limit: String(SPLITS_PAGE_LIMIT),
  });
  while (url) {
    seen.add(url.href);
    if (seen.size > ctx.maxPages)
      throw polygonError('PolygonBadResponseError', `${what} exceeded ${ctx.maxPages} pages`);
    const env = parseEnvelope(await ctx.getJson(url, 'splits'), what);
    for (const row of env.results ?? []) out.push(readSplit(row, what, env.request_id));
    url = env.next_url ? followUrl(ctx.target, env.next_url) : undefined;
    if (url && seen.has(url.href))
      throw polygonError(
        'PolygonBadResponseError',
        `${what} returned a next_url that repeats a page`,
      );
  }
  return out.sort((a, b) =>
    a.executionDate < b.executionDate ? -1 : a.executionDate > b.executionDate ? 1 : 0,
  );
}

function readSplit(row: unknown, what: string, requestId: string | undefined): StockSplit {
  const parsed = splitSchema.safeParse(row);
  if (!parsed.success)
    throw polygonError(
      'PolygonBadResponseError',
      `${what} returned a malformed split: ${clip(z.prettifyError(parsed.error))}`,
      { requestId },
    );
  const s = parsed.data;
  return {
    ticker: s.ticker,
    executionDate: s.execution_date,
    splitFrom: s.split_from,
    splitTo: s.split_to,
  };
}
