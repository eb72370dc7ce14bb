/**
 * What `npm run track-record` prints (pure): the newest aggregate item per model and prompt
 * version, and the best and worst calls of the window. A call's quality is score × excess
 * return: a strong score that went the right way is a good call, a strong one the wrong way a bad
 * one, a score of 0 is no call.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PROMPT_VERSION } from '../../lambdas/analysis/domain/prompt';
import { tradingDaysBack } from '../../lambdas/market-data/domain/market-calendar';

export interface Call {
  readonly ticker: string;
  readonly score: number;
  readonly excess: number;
  readonly dataAsOf: string;
  readonly evaluatedAt: string;
  readonly portfolioName: string;
  readonly modelPrompt: string;
}

const pct = (v: unknown) =>
  typeof v === 'number' ? `${(v * 100).toFixed(1)} %`.padStart(8) : '       –';
const dec = (v: unknown) => (typeof v === 'number' ? (v >= 0 ? ' ' : '') + v.toFixed(3) : '     –');

/** The newest item of each `modelPrompt`. */
export function newestItems(items: readonly Record<string, unknown>[]) {
  const newest = new Map<string, Record<string, unknown>>();
  for (const i of items) {
    const key = String(i.modelPrompt);
    const seen = newest.get(key);
    if (!seen || String(seen.asOf) < String(i.asOf)) newest.set(key, i);
  }
  return [...newest.values()].sort((a, b) =>
    String(a.modelPrompt).localeCompare(String(b.modelPrompt)),
  );
}

/** The aggregate table, one line per model and prompt version. */
export function formatAggregate(items: readonly Record<string, unknown>[]): string[] {
  if (items.length === 0)
    return ['No track record yet: analyses are evaluated h sessions (default 5) after their data.'];
  const lines = [
    'model / prompt                    as of       analyses  scores  hit rate   mean IC  [95 % interval]     long−short',
  ];
  for (const i of items) {
    const interval =
      typeof i.icLow === 'number' ? `[${dec(i.icLow)}, ${dec(i.icHigh)}]` : '[   n/a  ]'.padEnd(16);
    lines.push(
      `${String(i.modelPrompt).padEnd(33)} ${String(i.asOf)}  ${String(i.analyses).padStart(8)}  ${String(i.scores).padStart(6)}  ${pct(i.hitRate)}  ${dec(i.meanIc)}  ${interval.padEnd(18)}  ${pct(i.longMinusShort)}`,
    );
  }
  return lines;
}

/** The calls of the evaluations whose `evaluatedAt` lies in the trailing `window` sessions. */
export function callsInWindow(
  rows: readonly Record<string, unknown>[],
  asOf: string,
  window: number,
): Call[] {
  const sessions = new Set(tradingDaysBack(asOf, window));
  return rows.flatMap((row) => {
    const ev = row.evaluation as
      | { evaluatedAt: string; tickers: { ticker: string; score: number; excess: number }[] }
      | undefined;
    if (!ev || !sessions.has(ev.evaluatedAt)) return [];
    return ev.tickers.map((t) => ({
      ticker: t.ticker,
      score: t.score,
      excess: t.excess,
      dataAsOf: String(row.dataAsOf),
      evaluatedAt: ev.evaluatedAt,
      portfolioName: String(row.portfolioName ?? row.portfolio),
      modelPrompt: `${String(row.model)}#${String(row.promptVersion)}`,
    }));
  });
}

/** The `n` best and worst calls (score × excess), each list best or worst first. */
export function bestAndWorst(calls: readonly Call[], n = 10) {
  const quality = (c: Call) => c.score * c.excess;
  const decided = calls.filter((c) => c.score !== 0);
  const sorted = [...decided].sort((a, b) => quality(b) - quality(a));
  return { best: sorted.slice(0, n), worst: sorted.slice(-n).reverse() };
}

export function formatCalls(title: string, calls: readonly Call[]): string[] {
  if (calls.length === 0) return [];
  return [
    title,
    ...calls.map(
      (c) =>
        `  ${c.ticker.padEnd(6)} score ${String(c.score).padStart(5)}  excess ${pct(c.excess)}  ${c.dataAsOf} → ${c.evaluatedAt}  ${c.portfolioName} (${c.modelPrompt})`,
    ),
  ];
}

/**
 * The newest aggregate item of one model and the current prompt version (the morning report's
 * track-record line), or null when that model has none yet.
 */
export async function currentTrackRecord(
  doc: DynamoDBDocumentClient,
  tableName: string,
  model: string,
): Promise<Record<string, unknown> | null> {
  const out = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'modelPrompt = :k',
      ExpressionAttributeValues: { ':k': `${model}#${PROMPT_VERSION}` },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  return out.Items?.[0] ?? null;
}
