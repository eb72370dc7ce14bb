import {
  paginateScan,
  QueryCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { normaliseTicker } from '../../lambdas/platform/events';
import type { LocalTableNames } from '../../sim/local-tables';

/**
 * The web client's badge for an opportunity score: ≥7 strong, ≥4 good, ≥1 slight, >−1 neutral,
 * >−4 watch, >−7 consider reducing, else consider exiting.
 */
export function scoreBadge(score: number): string {
  if (score >= 7) return 'strong';
  if (score >= 4) return 'good';
  if (score >= 1) return 'slight';
  if (score > -1) return 'neutral';
  if (score > -4) return 'watch';
  if (score > -7) return 'consider reducing';
  return 'consider exiting';
}

/** One active ticker after the run. */
export interface TickerReport {
  readonly ticker: string;
  /** `fresh`: a row for the session; `no-data`: Polygon had none and the refresh said so. */
  readonly status: 'fresh' | 'no-data' | 'not-refreshed';
  readonly price?: number;
  readonly rsi?: number;
  readonly ma50?: number;
  readonly asOf?: string;
}

/** One position after the run (numbers as stored). */
export interface PositionReport {
  readonly id: string;
  readonly ticker: string;
  readonly shares: number;
  readonly costBasis: number;
  readonly currentPrice?: number;
  readonly marketValue?: number;
  readonly unrealizedPL?: number;
}

/** One scored holding of the newest analysis, as the web client shows it. */
export interface ScoreReport {
  readonly ticker: string;
  readonly score: number;
  readonly badge: string;
  readonly reason: string;
  readonly weight_percent?: number;
  readonly pl_percent?: number;
}

/** One portfolio after the run, with its newest analysis (what the portfolio API shows). */
export interface PortfolioReport {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly active: boolean;
  readonly positions: PositionReport[];
  /** Active with at least one position: analyzePortfolios queues it. */
  readonly expectsAnalysis: boolean;
  readonly analysis?: {
    readonly timestamp: string;
    readonly dataAsOf: string;
    readonly model: string;
    readonly costUsd?: number;
    readonly totalTokens?: number;
    readonly missingTickers: string[];
    readonly scores: ScoreReport[];
  };
}

/** What a night left in the tables and queues. */
export interface NightReport {
  readonly session: string;
  readonly tickers: TickerReport[];
  /** Positions of active portfolios whose symbol is not a ticker (reported by processTickers). */
  readonly invalidTickers: { readonly positionId: string; readonly ticker: string }[];
  readonly portfolios: PortfolioReport[];
  readonly queues: {
    readonly tickers: { readonly waiting: number; readonly deadLetters: number };
    readonly analysis: { readonly waiting: number; readonly deadLetters: number };
  };
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Every item of a table, all pages. A table name reads it consistently; a `ScanCommandInput`
 * (a filter, a projection) is sent as given. The one scan helper of the scripts and tests.
 */
export async function scanAll(
  doc: DynamoDBDocumentClient,
  tableOrInput: string | ScanCommandInput,
): Promise<Record<string, unknown>[]> {
  const input =
    typeof tableOrInput === 'string'
      ? { TableName: tableOrInput, ConsistentRead: true }
      : tableOrInput;
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: doc }, input)) items.push(...(page.Items ?? []));
  return items;
}

async function newest(
  doc: DynamoDBDocumentClient,
  table: string,
  key: string,
  value: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': key },
      ExpressionAttributeValues: { ':v': value },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

function decodeScores(parsedData: unknown): ScoreReport[] {
  let entries: unknown;
  try {
    entries = JSON.parse(String(parsedData));
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  return entries
    .flatMap((e: unknown) => {
      const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
      if (typeof o.ticker !== 'string' || typeof o.score !== 'number') return [];
      return [
        {
          ticker: o.ticker,
          score: o.score,
          badge: scoreBadge(o.score),
          reason: typeof o.reason === 'string' ? o.reason : '',
          weight_percent: num(o.weight_percent),
          pl_percent: num(o.pl_percent),
        },
      ];
    })
    .sort((a, b) => b.score - a.score || (a.ticker < b.ticker ? -1 : 1));
}

/**
 * Reads what the night left behind: every portfolio with its positions and newest analysis, the
 * newest own `ticker-data` row of every ticker held by an active portfolio (classified against
 * the session and the tickers the refresh reported without data), and the queue depths.
 */
export async function readNightReport(opts: {
  readonly doc: DynamoDBDocumentClient;
  readonly names: LocalTableNames;
  readonly session: string;
  /** What the refresh reported without data: how many, and the ones it named. */
  readonly noData: { readonly count: number; readonly named: ReadonlySet<string> };
  readonly queueDepths: NightReport['queues'];
}): Promise<NightReport> {
  const { doc, names } = opts;
  const [portfolioItems, positionItems] = await Promise.all([
    scanAll(doc, names.portfolios),
    scanAll(doc, names.positions),
  ]);
  const positionsBy = new Map<string, Record<string, unknown>[]>();
  for (const p of positionItems) {
    const key = String(p.portfolioId);
    positionsBy.set(key, [...(positionsBy.get(key) ?? []), p]);
  }
  const activeTickers = new Set<string>();
  const invalidTickers: NightReport['invalidTickers'] = [];
  for (const portfolio of portfolioItems) {
    if (portfolio.isActive === false) continue;
    for (const p of positionsBy.get(String(portfolio.id)) ?? []) {
      const t = normaliseTicker(p.ticker);
      if (t.ok) activeTickers.add(t.ticker);
      else invalidTickers.push({ positionId: String(p.id), ticker: String(p.ticker) });
    }
  }

  const latest = await Promise.all(
    [...activeTickers].sort().map(async (ticker) => {
      const rows = await newest(doc, names.tickerData, 'ticker', ticker, 10);
      return {
        ticker,
        row: rows.find((r) => typeof r.asOf === 'string' && num(r.price) !== undefined),
      };
    }),
  );
  let unnamedNoData = Math.max(
    0,
    opts.noData.count - latest.filter((l) => opts.noData.named.has(l.ticker)).length,
  );
  const tickers = latest.map(({ ticker, row }): TickerReport => {
    const fresh = row !== undefined && row.asOf === opts.session;
    let status: TickerReport['status'] = 'fresh';
    if (!fresh && opts.noData.named.has(ticker)) status = 'no-data';
    else if (!fresh && unnamedNoData > 0) {
      unnamedNoData--;
      status = 'no-data';
    } else if (!fresh) status = 'not-refreshed';
    return {
      ticker,
      status,
      price: num(row?.price),
      rsi: num(row?.rsi),
      ma50: num(row?.ma50),
      asOf: row?.asOf as string | undefined,
    };
  });

  const portfolios = await Promise.all(
    portfolioItems.map(async (item): Promise<PortfolioReport> => {
      const id = String(item.id);
      const active = item.isActive !== false;
      const positions = (positionsBy.get(id) ?? [])
        .map((p): PositionReport => ({
          id: String(p.id),
          ticker: String(p.ticker),
          shares: num(p.shares) ?? 0,
          costBasis: num(p.costBasis) ?? 0,
          currentPrice: num(p.currentPrice),
          marketValue: num(p.marketValue),
          unrealizedPL: num(p.unrealizedPL),
        }))
        .sort((a, b) =>
          a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : a.id < b.id ? -1 : 1,
        );
      const [row] = await newest(doc, names.analyses, 'portfolio', id, 1);
      return {
        id,
        name: text(item.name),
        userId: text(item.userId),
        active,
        positions,
        expectsAnalysis: active && positions.length > 0,
        analysis: row
          ? {
              timestamp: String(row.timestamp),
              dataAsOf: text(row.dataAsOf),
              model: text(row.model),
              costUsd: num(row.costUsd),
              totalTokens: num(row.totalTokens),
              missingTickers: Array.isArray(row.missingTickers)
                ? row.missingTickers.map(String)
                : [],
              scores: decodeScores(row.parsed_data),
            }
          : undefined,
      };
    }),
  );
  portfolios.sort((a, b) =>
    a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.name < b.name ? -1 : 1,
  );

  return {
    session: opts.session,
    tickers,
    invalidTickers,
    portfolios,
    queues: opts.queueDepths,
  };
}

/**
 * What is wrong with a night, as sentences (empty when it fully succeeded): dead letters or
 * leftover messages, an active ticker neither fresh nor reported without data, a position of a
 * fresh ticker not repriced to the session's close, an active portfolio with positions and no
 * analysis of the session's data.
 */
export function findProblems(report: NightReport): string[] {
  const problems: string[] = [];
  const q = report.queues;
  if (q.tickers.deadLetters > 0)
    problems.push(`${q.tickers.deadLetters} message(s) in the ticker-processing DLQ`);
  if (q.analysis.deadLetters > 0)
    problems.push(`${q.analysis.deadLetters} message(s) in the portfolio-analysis DLQ`);
  if (q.tickers.waiting > 0)
    problems.push(`${q.tickers.waiting} message(s) still waiting in ticker-processing-queue`);
  if (q.analysis.waiting > 0)
    problems.push(`${q.analysis.waiting} message(s) still waiting in portfolio-analysis-queue`);
  const byTicker = new Map(report.tickers.map((t) => [t.ticker, t]));
  const notRefreshed = report.tickers.filter((t) => t.status === 'not-refreshed');
  if (notRefreshed.length > 0)
    problems.push(
      `${notRefreshed.length} ticker(s) neither refreshed for ${report.session} nor reported without data: ` +
        notRefreshed
          .slice(0, 20)
          .map((t) => `${t.ticker} (newest row: ${t.asOf ?? 'none'})`)
          .join(', ') +
        (notRefreshed.length > 20 ? ', …' : ''),
    );
  for (const p of report.portfolios) {
    if (!p.active) continue;
    for (const pos of p.positions) {
      const t = normaliseTicker(pos.ticker);
      const data = t.ok ? byTicker.get(t.ticker) : undefined;
      if (data?.status === 'fresh' && pos.currentPrice !== data.price)
        problems.push(
          `position ${pos.id} (${pos.ticker.trim()}) of "${p.name}" has price ${pos.currentPrice ?? 'none'}, not the ${report.session} close ${data.price}`,
        );
    }
    if (!p.expectsAnalysis) continue;
    if (!p.analysis) problems.push(`portfolio "${p.name}" (${p.id}) has no analysis`);
    else if (p.analysis.dataAsOf !== report.session)
      problems.push(
        `portfolio "${p.name}" (${p.id}): newest analysis is of data as of ${p.analysis.dataAsOf || 'unknown'}, not ${report.session}`,
      );
    else if (p.analysis.scores.length === 0)
      problems.push(`portfolio "${p.name}" (${p.id}): newest analysis has no scores`);
  }
  return problems;
}

/** Text columns: the first left-aligned, the others as `align` says (default right). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ('l' | 'r')[] = [],
): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        (align[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

const fixed = (v: number | undefined, digits: number) =>
  v === undefined ? '-' : v.toFixed(digits);
const signed = (v: number, digits: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
const money = (v: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signedMoney = (v: number) => `${v >= 0 ? '+' : '-'}${money(Math.abs(v))}`;
const score = (v: number) => signed(v, Number.isInteger(v) ? 0 : 1);
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The summary of a night as text: the ticker table and each portfolio's sorted scores. */
export function formatNightReport(
  report: NightReport,
  labels: { readonly polygon: string; readonly xai: string; readonly model: string },
): string[] {
  const out: string[] = [];
  out.push(`Market data, session ${report.session} (Polygon ${labels.polygon})`);
  const tickerRows = report.tickers.map((t) => [
    t.ticker,
    fixed(t.price, 2),
    fixed(t.rsi, 2),
    fixed(t.ma50, 2),
    t.asOf ?? '-',
    t.status === 'fresh'
      ? ''
      : t.status === 'no-data'
        ? 'no data from Polygon (acknowledged, no row written)'
        : 'NOT REFRESHED',
  ]);
  out.push(
    ...formatTable(['Ticker', 'Price', 'RSI(14)', 'MA50', 'asOf', ''], tickerRows, [
      'l',
      'r',
      'r',
      'r',
      'l',
      'l',
    ]).map((l) => `  ${l}`),
  );
  for (const i of report.invalidTickers)
    out.push(`  position ${i.positionId}: "${i.ticker}" is not a ticker symbol (not refreshed)`);
  out.push('');
  out.push(`Opportunity scores (xAI ${labels.xai}, ${labels.model}), highest first`);
  for (const p of report.portfolios) {
    const valued = p.positions.filter((pos) => pos.marketValue !== undefined);
    const value = valued.reduce((s, pos) => s + (pos.marketValue ?? 0), 0);
    const cost = valued.reduce((s, pos) => s + pos.costBasis, 0);
    const pl = valued.reduce((s, pos) => s + (pos.unrealizedPL ?? 0), 0);
    const head = `  ${p.name} (${p.id}, ${p.userId})`;
    if (!p.active) {
      out.push(`${head}: inactive, not processed`);
      continue;
    }
    if (p.positions.length === 0) {
      out.push(`${head}: no positions, not analysed`);
      continue;
    }
    const valueText =
      valued.length > 0
        ? `value ${money(value)}, P/L ${signedMoney(pl)}${cost > 0 ? ` (${signed((pl / cost) * 100, 1)}%)` : ''}`
        : 'not priced';
    if (!p.analysis) {
      out.push(`${head}: ${valueText}; NO ANALYSIS`);
      continue;
    }
    const a = p.analysis;
    out.push(
      `${head}: ${valueText}; data as of ${a.dataAsOf}${a.costUsd === undefined ? '' : `, cost $${a.costUsd.toFixed(4)}`}`,
    );
    const rows = a.scores.map((s) => [
      score(s.score),
      s.badge,
      s.ticker,
      s.weight_percent === undefined ? '-' : `${s.weight_percent.toFixed(1)}%`,
      s.pl_percent === undefined ? '-' : `${signed(s.pl_percent, 1)}%`,
      clip(s.reason, 70),
    ]);
    out.push(
      ...formatTable(['Score', 'Badge', 'Ticker', 'Weight', 'P/L', 'Reason'], rows, [
        'r',
        'l',
        'l',
        'r',
        'r',
        'l',
      ]).map((l) => `      ${l}`),
    );
    if (a.missingTickers.length > 0)
      out.push(`      not scored (no market data): ${a.missingTickers.join(', ')}`);
  }
  return out;
}
