/**
 * Every case of the fault-injection suite (`npm run test:faults`), in the order FAULTS.md lists
 * them: what is injected and what the system is expected to do. The tests record what it did;
 * the report joins both (see report.ts).
 */

export type FaultGroup =
  'Polygon' | 'xAI' | 'DynamoDB' | 'Lambda' | 'Bad input' | 'Input limits' | 'Track record';

export interface FaultCaseSpec {
  readonly id: string;
  readonly group: FaultGroup;
  /** What is injected, in an operator's words. */
  readonly injected: string;
  /** What the system must do. */
  readonly expected: string;
}

export /** What every night-long case checks afterwards (harness/invariants.ts), as FAULTS.md lists it. */
const INVARIANTS = {
  tickers: 'no ticker lost (each fresh, no-data, or failed in the DLQ and counted)',
  portfolios:
    'no portfolio lost (each analysed, failed in the DLQ, counted and logged, or skipped for budget and counted)',
  duplicates: 'no duplicate rows (ticker-data per session, analyses per data/model/prompt)',
  positions: 'no phantom positions; prices exact to the cent (shares × close)',
  lastGood: 'the last good analysis is still the newest where none succeeded',
  budget: 'Polygon budget never exceeded (≤ 5 per 60 s, no 429 from the limiter)',
  dlq: 'nothing good in a DLQ; no message left waiting',
  keys: 'no API key in any log line',
} as const;

const spec = (
  group: FaultGroup,
  id: string,
  injected: string,
  expected: string,
): FaultCaseSpec => ({ id, group, injected, expected });

export const FAULT_CASES: readonly FaultCaseSpec[] = [
  spec(
    'Polygon',
    'P01',
    'Sustained 429s with a JSON body and Retry-After (more than the client retries)',
    'The job defers itself through SQS with a delay and resumes; every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P02',
    'Sustained 429s with an empty body and no Retry-After',
    'Same as with a body: the job defers (60 s) and resumes; every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P03',
    '10% of requests answer 500, on a night with new tickers (paged history)',
    'The client retries with backoff; every ticker ends fresh with its full history',
  ),
  spec(
    'Polygon',
    'P04',
    'Connection resets (socket destroyed before any answer)',
    'Retried as transient; every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P05',
    'A response slower than the client timeout',
    'The request is cut at the timeout and retried; every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P06',
    'A bad API key (401 "Unknown API Key" on every request)',
    'No retry storm: the job fails fast, PolygonAuthErrors and RefreshFailures are counted, the job reaches the DLQ with its tickers; nothing is written, positions keep their prices, the last analysis stays the newest',
  ),
  spec(
    'Polygon',
    'P07',
    'The session is not published yet (403 NOT_AUTHORIZED on the grouped day)',
    'The job defers 15 min instead of failing, then completes; every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P08',
    'A held ticker Polygon does not know',
    'Reported as no data (memo written, RefreshNoData counted), not retried, not in the DLQ; the others are fresh and the analysis lists it as missing',
  ),
  spec(
    'Polygon',
    'P09',
    'The night after a market holiday (Thanksgiving 2026-11-26, run 2026-11-27 04:30 UTC)',
    'The session is the last trading day (2026-11-25); no request for the holiday; every ticker fresh for 2026-11-25',
  ),
  spec(
    'Polygon',
    'P10',
    'A malformed JSON body (200 with truncated JSON)',
    'An unreadable body is a transport fault: retried within the invocation (no failed delivery, no alarm); every ticker ends fresh',
  ),
  spec(
    'Polygon',
    'P11',
    'A 10-for-1 split (NVDA) executed on the session being refreshed',
    'Stored history re-based (prices ÷ 10): every row on the adjusted basis, the newest close exact, MA50 and RSI of the adjusted closes; the split session marked; SplitsApplied once; two requests (grouped day, one splits lookup); nothing in a DLQ',
  ),
  spec(
    'Polygon',
    'P12',
    'A 1-for-4 reverse split (AAPL) executed on the session being refreshed',
    'Stored history re-based (prices × 4): every row on the adjusted basis, the newest close exact, MA50 and RSI of the adjusted closes; the split session marked; SplitsApplied once; two requests; nothing in a DLQ',
  ),
  spec(
    'Polygon',
    'P13',
    'A 3-for-1 split (MSFT) executed while the service did not run (3 sessions missed)',
    'The gap is filled and the history re-based in the same night with one splits lookup: every row on the adjusted basis, the execution session marked; other tickers untouched; nothing in a DLQ',
  ),
  spec(
    'Polygon',
    'P14',
    'A split (META 3-for-1) announced with an execution date 10 sessions ahead',
    'Changes nothing: stored rows unchanged, no mark, SplitsApplied not counted; two requests; nothing in a DLQ',
  ),
  spec(
    'xAI',
    'X01',
    '429 rate limited (twice, with Retry-After)',
    'The client waits and retries; one analysis per portfolio is stored',
  ),
  spec(
    'xAI',
    'X02',
    '429 credits exhausted (every request)',
    'No row is written; the run halts after the first credits error (one xAI call in all, XaiCreditsExhausted counted once); every delivery fails with the same reason; each portfolio reaches the DLQ; the last good analysis stays the newest',
  ),
  spec(
    'xAI',
    'X03',
    "500 on three requests in a row (all of one invocation's attempts)",
    'The message is retried by SQS and the analysis stored once',
  ),
  spec('xAI', 'X04', '529 overloaded (twice)', 'Retried with backoff; one analysis per portfolio'),
  spec(
    'xAI',
    'X05',
    'An answer slower than the client timeout',
    'Cut at the timeout and retried; one analysis per portfolio',
  ),
  spec(
    'xAI',
    'X06',
    'A truncated answer (finish_reason "length")',
    'Rejected, nothing stored; the retry stores one analysis; tokens of the wasted answer are counted',
  ),
  spec(
    'xAI',
    'X07',
    'A refusal (every request)',
    'Nothing stored; sent twice per portfolio (a refusal repeats at temperature 0); each portfolio reaches the DLQ with AnalysisFailures counted; the last good analysis stays the newest',
  ),
  spec(
    'xAI',
    'X08',
    'The answer wrapped in a ```json fence',
    'Accepted: the fence is stripped and the analysis stored',
  ),
  spec(
    'xAI',
    'X09',
    'Scores out of range (every request)',
    'Rejected by validation; sent twice per portfolio; nothing stored; DLQ; the last good analysis stays the newest',
  ),
  spec(
    'xAI',
    'X10',
    'An answer that misses a holding (every request)',
    'Rejected: a partial analysis is never stored; sent twice per portfolio; DLQ; the last good analysis stays the newest',
  ),
  spec(
    'xAI',
    'X11',
    'The same invalid answer on every request (a repeated paid defect)',
    'Paid twice per portfolio (first delivery and one retry), never 5 times; later deliveries fail at once with an ERROR naming the portfolio and the defect; DLQ',
  ),
  spec(
    'xAI',
    'X12',
    'Credits exhausted mid-night (after the first analysis)',
    'The stored analysis stays; the run sends nothing more to xAI; XaiCreditsExhausted counted once; the rest fail fast with the same reason and reach the DLQ',
  ),
  spec(
    'xAI',
    'X13',
    'Spend cap reached mid-night (XAI_MAX_USD_PER_NIGHT below the cost of one analysis)',
    'The first analysis is stored and its cost counted; the rest are not sent to xAI: acknowledged (not in the DLQ), counted as AnalysesSkippedBudget, one WARN line per invocation names them; their last good analysis stays the newest; a manual forced run is still sent and its cost counted',
  ),
  spec(
    'DynamoDB',
    'D01',
    'Throttled batch writes: half of each ticker-data BatchWriteItem returned as UnprocessedItems',
    'The unprocessed rows are re-sent with backoff; every row written once',
  ),
  spec(
    'DynamoDB',
    'D02',
    'Sustained throttling (ProvisionedThroughputExceeded) of ticker-data writes, beyond the SDK and batch retries',
    'The job fails, SQS redelivers it, and the retry completes; no duplicate rows',
  ),
  spec(
    'DynamoDB',
    'D03',
    'A position deleted while the night reprices it (conditional check fails)',
    'The deleted position is not re-created; the others are repriced; the night completes',
  ),
  spec(
    'Lambda',
    'L01',
    'processTicker killed (timeout) in the middle of a job, after some rows were written',
    'SQS redelivers the job; the retry completes it without duplicate rows or double repricing',
  ),
  spec(
    'Lambda',
    'L02',
    'analyzePortfolio killed (timeout) after its row was written, before its claim was marked done',
    'The retry takes over the stale claim, finds the stored row and does not call xAI or write again',
  ),
  spec(
    'Lambda',
    'L03',
    'Every message delivered twice (ticker jobs and analysis messages)',
    'Duplicates do no extra work: one row per ticker and session, one analysis per portfolio, one xAI call each',
  ),
  spec(
    'Lambda',
    'L04',
    'Two nightly runs overlapping (both fan-outs and both consumers at once)',
    'The shared budget holds (≤ 5 requests per 60 s), one row per ticker and session, one analysis per portfolio',
  ),
  spec(
    'Lambda',
    'L05',
    'processTicker killed in the middle of a chunked finish (a first night whose rows take several invocations to write), after the cursor moved',
    'SQS redelivers it; the retry resumes at the saved cursor: no row lost, at most one chunk written twice, the night reported done only after the last row',
  ),
  spec(
    'Bad input',
    'B01',
    'Malformed SQS bodies on both queues (not JSON, wrong version, wrong types, 200 KB of junk)',
    'Each is logged at ERROR with its messageId, counted (MalformedMessages) and acknowledged; good messages in the same night are processed',
  ),
  spec(
    'Bad input',
    'B02',
    'Unknown event shapes sent to every function',
    'An InvalidEventError that names the accepted shapes; nothing written or queued',
  ),
  spec(
    'Bad input',
    'B03',
    'Tickers with spaces, lower case and symbols in positions',
    'Trimmed/upper-cased when valid and refreshed; invalid ones skipped at the edge (InvalidPositions, one WARN line naming each position id) and left untouched',
  ),
  spec(
    'Bad input',
    'B04',
    'A manual analysis by a portfolio name that matches two portfolios',
    'Refused with both ids listed and how to pick one; no xAI call, nothing stored',
  ),
  spec(
    'Bad input',
    'B05',
    'Broken positions written by the portfolio API: no shares, costBasis "n/a", shares as text, a non-ASCII ticker ("ıbm"), next to sound lots of the same tickers',
    'Each broken position is skipped, counted (InvalidPositions) and named in a WARN line, and left untouched; every sound position (also of the same ticker) is priced, both portfolios analysed; no job fails, nothing in a DLQ',
  ),
  spec(
    'Bad input',
    'B06',
    'Corrupted refresh jobs: session 2024-13-45, a weekend, a session not yet traded, a forged plan of 5,000 calls, 1,000,000 deferrals',
    'Each is dropped as malformed (MalformedMessages, ERROR with its messageId), never retried and no Polygon call spent on it; the good night completes',
  ),
  spec(
    'Input limits',
    'I01',
    'A nightly run holding 10,001 tickers (one over the 10,000 per job), the largest deferred job, a message body of exactly 262,144 bytes and one byte more, and 30,001 tickers sent in batches',
    'Jobs of 10,000 and 1, each within 262,144 bytes; the largest deferred job fits and reads back intact; a body of exactly 262,144 bytes is queued, one byte more is refused with its size and the limit and nothing is sent; no batch exceeds 262,144 bytes or 10 entries',
  ),
  spec(
    'Input limits',
    'I02',
    'A manual run listing 10,001 tickers (one over the 10,000 per invocation), then exactly 10,000',
    'Over: an InvalidEventError naming the count, the bound and how to split the list; nothing queued. At the bound: accepted and queued as one job',
  ),
  spec(
    'Input limits',
    'I03',
    'An xAI answer of exactly 131,072 bytes and one byte more; a reason of 1,000 characters and 1,001; a response body of exactly 1 MiB and one byte more (chunked)',
    'Stored at each bound; one over is rejected with the limit named (the body as a bad response, not retried), nothing stored, and the last analysis stays the newest',
  ),
  spec(
    'Track record',
    'T01',
    'evaluateAnalyses killed mid-evaluation (DynamoDB applies its 2nd evaluation write and never answers), then run again',
    'The rerun evaluates what is left and writes the aggregate; every due analysis has exactly one evaluation, equal to one computed from the stored closes; nothing evaluated before D+h',
  ),
  spec(
    'Track record',
    'T02',
    'evaluateAnalyses run twice on the same night',
    'The second run writes no evaluation (all already evaluated), leaves every evaluation unchanged and rewrites the same aggregate item (one per model, prompt and night)',
  ),
  spec(
    'Track record',
    'T03',
    'A 2-for-1 split of a scored ticker executes between D and D+h',
    'The refresh re-bases the stored history, so the ticker’s return is on today’s basis (the split is no −50 % return) and equals the adjusted closes’ ratio',
  ),
  spec(
    'Track record',
    'T04',
    'A scored ticker has a close on D but none on D+h (Polygon no longer knows it)',
    'It is left out of the evaluation (n counts the others); the rest is evaluated; the night completes',
  ),
  spec(
    'Track record',
    'T05',
    'An analysis of a portfolio with one holding',
    'Evaluated with n = 1, hits/decided of that one score and no IC (n < 3); the aggregate has no mean IC from it',
  ),
];

export const faultCaseSpec = (id: string): FaultCaseSpec => {
  const found = FAULT_CASES.find((c) => c.id === id);
  if (!found) throw new Error(`No fault case ${id} in test/faults/harness/catalogue.ts`);
  return found;
};
