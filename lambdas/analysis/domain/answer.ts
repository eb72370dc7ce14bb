import * as z from '../../platform/zod';
import { clip, grouped } from '../../platform/text';
import { normalizeTicker, SCORE_MAX, SCORE_MIN } from './prompt';

/** One validated score, ticker upper-cased and reason trimmed. */
export interface AnalysisScore {
  readonly ticker: string;
  readonly score: number;
  readonly reason: string;
}

/** Result of {@link parseAnalysisAnswer}: every expected ticker scored, or what was wrong. */
export type AnalysisAnswer =
  | { readonly ok: true; readonly scores: AnalysisScore[]; readonly warnings: string[] }
  | { readonly ok: false; readonly error: string };

const WRAPPER_KEYS = [
  'scores',
  'results',
  'analysis',
  'holdings',
  'ratings',
  'recommendations',
  'opportunities',
  'items',
  'data',
  'output',
  'result',
];

/**
 * Most UTF-8 bytes of answer content accepted: 131,072 (128 KiB). The answer is generated within
 * COMPLETION_TOKENS_MAX (16,000) completion tokens, which at the ~4 bytes a token of JSON text
 * runs to about 64 KB: this is twice that. It also keeps the stored row (this answer, parsed_data
 * repeating its reasons, and the prompt) well within DynamoDB's 400 KB item limit. A longer
 * answer is a runaway one: it is rejected before parsing and nothing is stored.
 */
export const MAX_ANSWER_BYTES = 128 * 1024;

/**
 * Most characters of one score's reason (after trimming): 1,000. The prompt asks for at most 200;
 * five times that is a confused answer, rejected whole like an out-of-range score.
 */
export const MAX_REASON_CHARS = 1_000;

const MAX_DEPTH = 4;
const MAX_SCAN_STARTS = 50;

const entrySchema = z.object(
  {
    ticker: z
      .string({ error: (iss) => `ticker must be a string, got ${describe(iss.input)}` })
      .check(z.trim(), z.minLength(1, { error: 'ticker is empty' })),
    score: z
      .number({ error: (iss) => `score must be a finite number, got ${describe(iss.input)}` })
      .check(
        z.minimum(SCORE_MIN, {
          error: (iss) => `score ${String(iss.input)} is outside ${SCORE_MIN}…${SCORE_MAX}`,
        }),
        z.maximum(SCORE_MAX, {
          error: (iss) => `score ${String(iss.input)} is outside ${SCORE_MIN}…${SCORE_MAX}`,
        }),
      ),
    reason: z
      .string({ error: (iss) => `reason must be a string, got ${describe(iss.input)}` })
      .check(
        z.trim(),
        z.minLength(1, { error: 'reason is empty' }),
        z.maxLength(MAX_REASON_CHARS, {
          error: (iss) =>
            `reason is ${typeof iss.input === 'string' ? grouped(iss.input.length) : 'too many'} characters, over the limit of ${grouped(MAX_REASON_CHARS)} (MAX_REASON_CHARS)`,
        }),
      ),
  },
  { error: (iss) => `must be an object {ticker, score, reason}, got ${describe(iss.input)}` },
);

/**
 * Parses and validates the model's answer (`choices[0].message.content`).
 *
 * Tolerated shapes: bare JSON, JSON in a ```json fence, JSON with prose before or after it, a
 * JSON-encoded string of JSON, a bare array of entries, and a wrapping object
 * (`{scores: [...]}`, `{analysis: {scores: [...]}}`, `{results: [...]}`, a single entry, or a
 * map `{NVDA: {score, reason}}`).
 *
 * Rules: tickers are compared trimmed and upper-cased; every expected ticker must be scored
 * (a missing ticker fails); repairable defects are repaired with a warning instead of paying for
 * another answer that, at temperature 0, would likely repeat them: a ticker scored twice keeps
 * its first valid entry, and entries for tickers not expected are dropped; `score` must be a finite JSON number; `reason` must be non-empty and
 * at most {@link MAX_REASON_CHARS} characters; the content at most {@link MAX_ANSWER_BYTES} bytes.
 *
 * Out-of-range scores are **rejected, not clamped**: the model was told the −10…10 range and
 * the strict response schema bounds it, so a score outside it means a confused answer whose
 * other scores cannot be trusted either; clamping would store a made-up number.
 *
 * @param content the raw assistant message content.
 * @param expectedTickers the tickers the prompt asked to score.
 * @returns the scores in `expectedTickers` order with warnings, or an error naming every problem.
 */
export function parseAnalysisAnswer(
  content: string,
  expectedTickers: readonly string[],
): AnalysisAnswer {
  if (typeof content !== 'string' || content.trim() === '') {
    return { ok: false, error: 'answer is empty' };
  }
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_ANSWER_BYTES) {
    return {
      ok: false,
      error: `answer is ${grouped(bytes)} bytes, over the limit of ${grouped(MAX_ANSWER_BYTES)} (MAX_ANSWER_BYTES): a runaway answer; a retry usually answers normally, and if a large portfolio needs more, raise the limit`,
    };
  }
  const located = locateInContent(content);
  if (!located.ok) return located;

  const warnings: string[] = [];
  if (located.extracted) warnings.push(`answer was not bare JSON: ${located.extracted}`);
  if (located.path !== 'scores') warnings.push(`scores were found at ${located.path}`);

  const expected = [...new Set(expectedTickers.map(normalizeTicker))];
  const { accepted, mentioned, duplicates, extras, invalid } = sortEntries(
    located.entries,
    new Set(expected),
  );
  const missing = expected.filter((t) => !mentioned.has(t));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing scores for ${missing.join(', ')}`);
  problems.push(...invalid);
  if (problems.length > 0) {
    return { ok: false, error: `answer rejected: ${problems.join('; ')}` };
  }
  if (duplicates.size > 0) {
    warnings.push(`kept the first of several scores for ${[...duplicates].join(', ')}`);
  }
  if (extras.size > 0) {
    warnings.push(`dropped scores for tickers not asked for: ${[...extras].join(', ')}`);
  }
  return { ok: true, scores: expected.map((t) => accepted.get(t) as AnalysisScore), warnings };
}

/** The answer's entries sorted into accepted scores, duplicates, extras and invalid ones. */
function sortEntries(entries: readonly unknown[], expectedSet: ReadonlySet<string>) {
  const accepted = new Map<string, AnalysisScore>();
  const mentioned = new Set<string>();
  const duplicates = new Set<string>();
  const extras = new Set<string>();
  const invalid: string[] = [];

  entries.forEach((raw, index) => {
    const rawTicker = tickerOf(raw);
    if (rawTicker !== undefined && rawTicker !== '' && !expectedSet.has(rawTicker)) {
      extras.add(rawTicker);
      return;
    }
    if (rawTicker) mentioned.add(rawTicker);
    if (rawTicker && accepted.has(rawTicker)) {
      duplicates.add(rawTicker);
      return;
    }
    const label = `entry ${index + 1}${rawTicker ? ` (${rawTicker})` : ''}`;
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      invalid.push(
        `${label}: ${[...new Set(parsed.error.issues.map((i) => i.message))].join(', ')}`,
      );
      return;
    }
    const ticker = normalizeTicker(parsed.data.ticker);
    accepted.set(ticker, { ticker, score: parsed.data.score, reason: parsed.data.reason });
  });
  return { accepted, mentioned, duplicates, extras, invalid };
}

type Located =
  { ok: true; entries: unknown[]; path: string; extracted?: string } | { ok: false; error: string };

function locateInContent(content: string): Located {
  let parsedAny = false;
  for (const candidate of jsonCandidates(content.trim())) {
    const value = unwrapEncodedString(candidate.value);
    parsedAny = true;
    const found = locateEntries(value, '', 0);
    if (found)
      return { ok: true, entries: found.entries, path: found.path, extracted: candidate.extracted };
  }
  return parsedAny
    ? {
        ok: false,
        error: 'answer JSON holds no scores array (expected {"scores":[{ticker, score, reason}]})',
      }
    : { ok: false, error: 'answer contains no parseable JSON object or array' };
}

function* jsonCandidates(text: string): Generator<{ value: unknown; extracted?: string }> {
  const whole = tryParse(text);
  if (whole.ok) yield { value: whole.value };

  const fence = /```[\w-]*[^\S\r\n]*\r?\n?([\s\S]*?)```/g;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    const inner = m[1].trim();
    const parsed = tryParse(inner);
    if (parsed.ok) yield { value: parsed.value, extracted: 'taken from a code fence' };
    else yield* balancedValues(inner, 'taken from prose inside a code fence');
  }
  yield* balancedValues(text, 'taken from surrounding prose');
}

function* balancedValues(
  text: string,
  extracted: string,
): Generator<{ value: unknown; extracted: string }> {
  let starts = 0;
  for (let i = 0; i < text.length && starts < MAX_SCAN_STARTS; i++) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') continue;
    starts++;
    const end = matchingEnd(text, i);
    if (end < 0) continue;
    const parsed = tryParse(text.slice(i, end + 1));
    if (parsed.ok) {
      yield { value: parsed.value, extracted };
      i = end;
    }
  }
}

function matchingEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') stack.push('}');
    else if (ch === '[') stack.push(']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

function locateEntries(
  value: unknown,
  path: string,
  depth: number,
): { entries: unknown[]; path: string } | undefined {
  if (Array.isArray(value)) return { entries: value, path: path || '(top-level array)' };
  if (!isRecord(value) || depth > MAX_DEPTH) return undefined;

  const keys = Object.keys(value);
  for (const wanted of WRAPPER_KEYS) {
    const key = keys.find((k) => k.toLowerCase() === wanted);
    if (key === undefined) continue;
    const inner = value[key];
    const childPath = path ? `${path}.${key}` : key;
    if (Array.isArray(inner)) return { entries: inner, path: childPath };
    const found = locateEntries(inner, childPath, depth + 1);
    if (found) return found;
  }
  if ('ticker' in value && 'score' in value)
    return { entries: [value], path: path || '(single entry)' };

  for (const key of keys) {
    const inner = value[key];
    if (Array.isArray(inner) && inner.some((e) => isRecord(e) && 'ticker' in e)) {
      return { entries: inner, path: path ? `${path}.${key}` : key };
    }
  }
  if (keys.length > 0 && keys.every((k) => isRecord(value[k]) && 'score' in (value[k] as object))) {
    return {
      entries: keys.map((k) => ({ ticker: k, ...(value[k] as object) })),
      path: path ? `${path} (ticker map)` : '(ticker map)',
    };
  }
  for (const key of keys) {
    const found = locateEntries(value[key], path ? `${path}.${key}` : key, depth + 1);
    if (found && !Array.isArray(value[key])) return found;
  }
  return undefined;
}

function unwrapEncodedString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const inner = tryParse(value.trim());
  return inner.ok ? inner.value : value;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function tickerOf(raw: unknown): string | undefined {
  return isRecord(raw) && typeof raw.ticker === 'string' ? normalizeTicker(raw.ticker) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(clip(value, 40))}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
