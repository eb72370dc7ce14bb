/**
 * Polygon's URLs and response bodies: building request URLs, following `next_url`, and reading
 * the aggregate envelope into {@link DailyBar}s.
 */
import * as z from '../../platform/zod';
import { nyDateOf } from '../../platform/ny-time';
import { clip } from '../../platform/text';
import type { DailyBar } from './polygon-client';
import { polygonError } from './polygon-error';

const API_KEY_PARAM_RE = /^api[-_]?key$/i;

const optionalNumber = z.pipe(
  z.nullish(z.number()),
  z.transform((v) => v ?? undefined),
);

export const aggSchema = z.object({
  T: z.optional(z.string().check(z.minLength(1))),
  o: z.number(),
  h: z.number(),
  l: z.number(),
  c: z.number(),
  v: z.number().check(z.nonnegative()),
  vw: optionalNumber,
  n: optionalNumber,
  t: z.int(),
});

const envelopeSchema = z.object({
  status: z.enum(['OK', 'DELAYED']),
  request_id: z.optional(z.string()),
  resultsCount: z.optional(z.int().check(z.nonnegative())),
  results: z.optional(z.array(z.unknown())),
  next_url: z.optional(z.string().check(z.minLength(1))),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type Agg = z.infer<typeof aggSchema>;

/** Where requests go: the base URL's origin and its path prefix (without a trailing slash). */
export interface Target {
  readonly base: URL;
  readonly basePath: string;
}

export function buildUrl(target: Target, path: string, query: Record<string, string>): URL {
  const url = new URL(target.basePath + path, target.base.origin);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** The URL of a `next_url`, on our origin and path prefix, with any `apiKey` parameter dropped. */
export function followUrl({ base, basePath }: Target, nextUrl: string): URL {
  let next: URL;
  try {
    next = new URL(nextUrl, base.origin);
  } catch {
    throw polygonError('PolygonBadResponseError', 'Polygon returned an unreadable next_url');
  }
  const path =
    next.origin !== base.origin && basePath && !next.pathname.startsWith(`${basePath}/`)
      ? basePath + next.pathname
      : next.pathname;
  const url = new URL(path + next.search, base.origin);
  for (const name of [...url.searchParams.keys()]) {
    if (API_KEY_PARAM_RE.test(name)) url.searchParams.delete(name);
  }
  return url;
}

export function parseEnvelope(body: unknown, what: string): Envelope {
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success)
    throw polygonError(
      'PolygonBadResponseError',
      `${what} returned an unexpected body: ${clip(z.prettifyError(parsed.error))}`,
    );
  const env = parsed.data;
  if (env.results === undefined && (env.resultsCount ?? 0) > 0) {
    throw polygonError(
      'PolygonBadResponseError',
      `${what} reported ${env.resultsCount} results but sent none`,
      { requestId: env.request_id },
    );
  }
  return env;
}

export function toBar(ticker: string, a: Agg, sessions: Map<number, string>): DailyBar {
  return {
    ticker,
    session: sessionOf(a.t, sessions),
    open: a.o,
    high: a.h,
    low: a.l,
    close: a.c,
    volume: a.v,
    ...(a.vw === undefined ? {} : { vwap: a.vw }),
    ...(a.n === undefined ? {} : { trades: a.n }),
    t: a.t,
  };
}

function sessionOf(t: number, cache: Map<number, string>): string {
  let session = cache.get(t);
  if (session === undefined) {
    session = nyDateOf(t);
    cache.set(t, session);
  }
  return session;
}
