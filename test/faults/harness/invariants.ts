import Big from 'big.js';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { normaliseTicker } from '../../../lambdas/platform/events';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import { maxInWindow } from '../../../sim/polygon-simulator';
import { depth } from '../../../sim/queue-poller';
import { INVARIANTS } from './catalogue';
import type { CaseRecorder } from './recorder';
import { rowsOf, scanAll, type Night, type Seeded, type World } from './world';

/** What a case expects besides "everything fresh, analysed and priced". */
export interface Expectations {
  /** Tickers that must end not refreshed, their failure recorded (job in the DLQ) and counted. */
  readonly failedTickers?: readonly string[];
  /** Tickers Polygon has no data for: memo written, no row, not in the DLQ. */
  readonly noDataTickers?: readonly string[];
  /** Portfolios whose analysis must fail: in the DLQ, counted, ERROR naming them. */
  readonly failedPortfolios?: readonly string[];
  /**
   * Portfolios not sent to xAI because the night's spend cap was reached: acknowledged (not in a
   * DLQ), counted as AnalysesSkippedBudget, named by a WARN line; their last good analysis stays.
   */
  readonly budgetSkippedPortfolios?: readonly string[];
  /** Portfolios not re-analysed for a reason that is not a failure (e.g. no fresh data). */
  readonly unanalysedPortfolios?: readonly string[];
  /** Positions deleted during the night (must not come back). */
  readonly deletedPositions?: readonly string[];
  /** Positions the case wrote raw, unusable (the case checks they are left as they were). */
  readonly brokenPositions?: readonly string[];
  /** Malformed messages acknowledged (not retried, not in a DLQ). */
  readonly malformed?: number;
  /** The session the night refreshes (default: the seed's). */
  readonly session?: string;
}

/** Text of a stored value (numbers are read as exact `NumberValue`s, whose `toString` is exact). */
const asText = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : (v as { toString(): string }).toString();
const exact = (v: unknown) => {
  const t = asText(v);
  return t === undefined ? undefined : new Big(t);
};

/**
 * Checks the data a night left behind against the seed and the case's expectations, records
 * what was checked, and fails the case with every problem found.
 */
export async function checkNight(
  world: World,
  seeded: Seeded,
  night: Night | Night[],
  rec: CaseRecorder,
  exp: Expectations = {},
): Promise<void> {
  const nights = [night].flat();
  const session = exp.session ?? seeded.session;
  const problems: string[] = [];
  const failedTickers = new Set(exp.failedTickers ?? []);
  const noData = new Set(exp.noDataTickers ?? []);
  const failedPortfolios = new Set(exp.failedPortfolios ?? []);
  const budgetSkipped = new Set(exp.budgetSkippedPortfolios ?? []);
  const unanalysed = new Set([
    ...(exp.unanalysedPortfolios ?? []),
    ...failedPortfolios,
    ...budgetSkipped,
  ]);
  const deleted = new Set(exp.deletedPositions ?? []);
  const metric = (name: string) => nights.reduce((s, n) => s + (n.metrics[name] ?? 0), 0);

  // DLQ contents.
  const tickerDead = await world.peek(world.queues.tickers.dlqUrl);
  const analysisDead = await world.peek(world.queues.analysis.dlqUrl);
  const deadTickers = new Set<string>();
  for (const m of tickerDead) {
    try {
      for (const t of (JSON.parse(m.Body ?? '') as { tickers?: string[] }).tickers ?? [])
        deadTickers.add(t);
    } catch {
      problems.push(`ticker DLQ holds a message that is not a job: ${m.Body?.slice(0, 80)}`);
    }
  }
  const deadPortfolios = new Set<string>();
  for (const m of analysisDead) {
    try {
      deadPortfolios.add(
        String((JSON.parse(m.Body ?? '') as { portfolioId?: string }).portfolioId),
      );
    } catch {
      problems.push(`analysis DLQ holds a message that is not JSON: ${m.Body?.slice(0, 80)}`);
    }
  }

  // Tickers: every ticker held by an active portfolio.
  const active = new Set(seeded.portfolios.filter((p) => p.isActive !== false).map((p) => p.id));
  const held = new Set<string>();
  for (const p of seeded.positions) {
    const t = normaliseTicker(p.ticker);
    if (active.has(p.portfolioId) && t.ok) held.add(t.ticker);
  }
  // The track record's benchmark is refreshed every night like a held ticker.
  held.add('SPY');
  const closes = new Map<string, Big>();
  for (const t of [...held].sort()) {
    const rows = await rowsOf(world, t);
    const bySession = new Map<string, number>();
    for (const r of rows) bySession.set(String(r.asOf), (bySession.get(String(r.asOf)) ?? 0) + 1);
    for (const [asOf, count] of bySession)
      if (count > 1) problems.push(`${t}: ${count} rows for ${asOf}`);
    const fresh = rows.find(
      (r) => r.asOf === session && r.timestamp === sessionCloseIso(session) && r.rsi !== undefined,
    );
    if (fresh) {
      closes.set(t, exact(fresh.price)!);
      if (failedTickers.has(t) || noData.has(t))
        problems.push(
          `${t} is fresh, but the case expected it ${noData.has(t) ? 'without data' : 'to fail'}`,
        );
      if (deadTickers.has(t)) problems.push(`${t} is fresh but its job is in the DLQ`);
      continue;
    }
    const memo = await world.doc.send(
      new QueryCommand({
        TableName: world.names.state,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `nodata#${t}` },
      }),
    );
    const memoised = (memo.Items ?? []).some((i) => i.session === session);
    if (noData.has(t)) {
      if (!memoised) problems.push(`${t}: no row and no no-data memo for ${session}`);
      if (deadTickers.has(t)) problems.push(`${t} has no data, yet its job is in the DLQ`);
      continue;
    }
    if (failedTickers.has(t)) {
      if (!deadTickers.has(t)) problems.push(`${t} failed but no job in the DLQ names it`);
      continue;
    }
    problems.push(
      memoised
        ? `${t} was reported without data for ${session}, but the case expected it fresh`
        : `${t} was silently lost: not fresh for ${session}, no memo, not in the DLQ`,
    );
  }
  if (failedTickers.size > 0 && metric('RefreshFailures') === 0)
    problems.push('tickers failed but RefreshFailures was never counted');
  for (const t of deadTickers)
    if (!failedTickers.has(t)) problems.push(`a good ticker's job is in the DLQ: ${t}`);

  // Positions: the seeded ones, minus the deleted ones; prices exact.
  const positions = await scanAll(world, world.names.positions);
  const seededById = new Map(seeded.positions.map((p) => [p.id, p]));
  for (const item of positions) {
    const id = String(item.id);
    const p = seededById.get(id);
    if (!p && exp.brokenPositions?.includes(id)) continue;
    if (!p) {
      problems.push(`phantom position ${id}: ${JSON.stringify(item)}`);
      continue;
    }
    if (deleted.has(id)) problems.push(`deleted position ${id} was re-created`);
    if (
      asText(item.ticker) !== p.ticker ||
      asText(item.portfolioId) !== p.portfolioId ||
      !exact(item.shares)?.eq(p.shares) ||
      !exact(item.costBasis)?.eq(p.costBasis)
    )
      problems.push(`position ${id} changed beyond its prices`);
    const t = normaliseTicker(p.ticker);
    const close = t.ok && active.has(p.portfolioId) ? closes.get(t.ticker) : undefined;
    const want = close
      ? {
          currentPrice: close,
          marketValue: close.times(p.shares),
          unrealizedPL: close.times(p.shares).minus(p.costBasis),
        }
      : {
          currentPrice: exact(p.currentPrice),
          marketValue: exact(p.marketValue),
          unrealizedPL: exact(p.unrealizedPL),
        };
    for (const k of ['currentPrice', 'marketValue', 'unrealizedPL'] as const) {
      const got = exact(item[k]);
      const w = want[k];
      if ((got === undefined) !== (w === undefined) || (got && w && !got.eq(w)))
        problems.push(
          `position ${id} ${k} is ${got?.toFixed() ?? 'absent'}, expected ${w?.toFixed() ?? 'absent'}`,
        );
    }
  }
  const present = new Set(positions.map((i) => String(i.id)));
  for (const p of seeded.positions)
    if (!present.has(p.id) && !deleted.has(p.id)) problems.push(`position ${p.id} disappeared`);

  // Analyses: one per portfolio, data session, model and prompt; the newest is right.
  const analyses = await scanAll(world, world.names.analyses);
  const perKey = new Map<string, number>();
  for (const a of analyses) {
    const key = `${a.portfolio} ${a.dataAsOf} ${a.requestedModel} ${a.promptVersion}`;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  for (const [key, count] of perKey) if (count > 1) problems.push(`${count} analyses for ${key}`);
  for (const p of seeded.portfolios) {
    if (p.isActive === false) continue;
    const mine = analyses
      .filter((a) => a.portfolio === p.id)
      .sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
    const hasPositions = seeded.positions.some((x) => x.portfolioId === p.id && !deleted.has(x.id));
    if (!hasPositions) {
      if (mine.length > 0) problems.push(`empty portfolio ${p.id} got an analysis`);
      continue;
    }
    const newest = mine[0];
    if (unanalysed.has(p.id)) {
      const good = seeded.lastGoodAnalysis.get(p.id);
      if (good && newest?.timestamp !== good)
        problems.push(
          `portfolio ${p.id}: the last good analysis (${good}) is no longer the newest (${newest?.timestamp})`,
        );
      if (!good && newest)
        problems.push(`portfolio ${p.id} got an analysis the case did not expect`);
    } else if (newest?.dataAsOf !== session) {
      problems.push(
        `portfolio ${p.id} was silently not analysed for ${session} (newest: ${newest?.dataAsOf ?? 'none'})`,
      );
    }
    if (failedPortfolios.has(p.id)) {
      if (!deadPortfolios.has(p.id))
        problems.push(`portfolio ${p.id} failed but is not in the DLQ`);
      const named = nights.some((n) =>
        n.records.some((r) => r.level === 'ERROR' && JSON.stringify(r).includes(p.id)),
      );
      if (!named) problems.push(`no ERROR log line names failed portfolio ${p.id}`);
    }
  }
  if (metric('AnalysesSkippedBudget') !== budgetSkipped.size)
    problems.push(
      `AnalysesSkippedBudget counted ${metric('AnalysesSkippedBudget')}, expected ${budgetSkipped.size}`,
    );
  for (const id of budgetSkipped) {
    const named = nights.some((n) =>
      n.records.some(
        (r) =>
          r.level === 'WARN' &&
          /spend cap/.test(String(r.message)) &&
          JSON.stringify(r).includes(id),
      ),
    );
    if (!named) problems.push(`no WARN line names portfolio ${id}, skipped for budget`);
  }
  if (failedPortfolios.size > 0 && metric('AnalysisFailures') === 0)
    problems.push('analyses failed but AnalysisFailures was never counted');
  for (const id of deadPortfolios)
    if (!failedPortfolios.has(id)) problems.push(`a good portfolio's message is in the DLQ: ${id}`);

  // Budget.
  const stats = world.polygon.stats();
  if (stats.maxAdmittedInWindow > 5)
    problems.push(`Polygon saw ${stats.maxAdmittedInWindow} requests in one 60-s window`);
  if (stats.rateLimited > 0)
    problems.push(`Polygon's limiter refused ${stats.rateLimited} request(s)`);
  const admitted = nights.flatMap((n) => n.polygonRequests.map((r) => r.at));
  if (maxInWindow(admitted, 60_000) > 5) problems.push('this night exceeded 5 requests per 60 s');

  // Queues.
  for (const [name, url] of [
    ['ticker-processing-queue', world.queues.tickers.queueUrl],
    ['portfolio-analysis-queue', world.queues.analysis.queueUrl],
  ] as const) {
    const left = await depth(world.sqs.client, url);
    if (left > 0) problems.push(`${left} message(s) left waiting in ${name}`);
  }
  if (exp.malformed !== undefined && metric('MalformedMessages') !== exp.malformed)
    problems.push(
      `MalformedMessages counted ${metric('MalformedMessages')}, expected ${exp.malformed}`,
    );

  // Keys.
  const text = nights.flatMap((n) => n.lines).join('\n');
  for (const [name, key] of Object.entries(world.keys))
    if (text.includes(key)) problems.push(`the ${name} API key appears in the log output`);
  if (text.length === 0)
    problems.push('no log output was captured (the key check would be vacuous)');

  rec.checked(...Object.values(INVARIANTS));
  expect(problems).toEqual([]);
}

/** Short, deterministic description of what a night did, for the report. */
export function describeNight(n: Night): string {
  const parts: string[] = [];
  const calls = n.polygonRequests.length;
  const byStatus = new Map<string, number>();
  for (const r of n.polygonRequests) {
    const k = r.fault ? `${r.fault} ${r.status || 'no answer'}` : String(r.status);
    byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
  }
  parts.push(
    `${calls} Polygon request(s)${calls ? ` (${[...byStatus].map(([k, v]) => `${v}× ${k}`).join(', ')})` : ''}`,
  );
  if (n.deferrals.length > 0)
    parts.push(
      `${n.deferrals.length} deferral(s) asking ${[...new Set(n.deferrals.map((d) => `${d.delaySeconds} s`))].join('/')}`,
    );
  const m = n.metrics;
  const bits = (
    [
      ['TickersRefreshed', 'refreshed'],
      ['TickersWithoutData', 'without data'],
      ['RefreshFailures', 'refresh failures'],
      ['PositionsUpdated', 'positions repriced'],
      ['PositionsSkipped', 'positions skipped'],
      ['AnalysesStored', 'analyses stored'],
      ['AnalysesSkipped', 'analyses skipped (already done)'],
      ['AnalysisFailures', 'analysis failures'],
      ['MalformedMessages', 'malformed messages'],
    ] as const
  )
    .filter(([k]) => (m[k] ?? 0) > 0)
    .map(([k, label]) => `${m[k]} ${label}`);
  if (bits.length) parts.push(bits.join(', '));
  parts.push(`${n.xaiRequests.length} xAI request(s)`);
  return parts.join('; ');
}
