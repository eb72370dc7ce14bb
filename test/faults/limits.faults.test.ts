/**
 * Input limits at their bounds (issue 7): the size of a queued refresh job, the tickers one manual
 * run may list, and the length of an xAI answer. Each case runs the real code at the bound and one
 * past it against the suite's world (local SQS, dynalite, the xAI simulator), and checks that the
 * refusal names the limit and loses nothing: no job half-queued, no analysis half-stored.
 *
 * The xAI simulator always answers at a normal size, so the analysis functions reach it through a
 * local proxy (started here, before their first invocation reads XAI_API_URL) that pads its
 * answers to an exact number of bytes.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  createJobQueue,
  MAX_BATCH_ENTRIES,
  MAX_MESSAGE_BYTES,
  MessageTooLargeError,
} from '../../lambdas/platform/job-queue';
import { MAX_XAI_RESPONSE_BYTES } from '../../lambdas/analysis/adapters/xai-client';
import { MAX_ANSWER_BYTES, MAX_REASON_CHARS } from '../../lambdas/analysis/domain/answer';
import { COMPLETION_TOKENS_MAX } from '../../lambdas/analysis/flows';
import { InvalidEventError, MAX_TICKERS_PER_MANUAL_RUN } from '../../lambdas/platform/events';
import { latestCompletedSession } from '../../lambdas/market-data/domain/market-calendar';
import { processTickersFlow } from '../../lambdas/market-data/flows';
import {
  MAX_DEFERRALS,
  MAX_TICKERS_PER_JOB,
  refreshJobSchema,
  runRefreshJob,
  type RefreshJob,
  type RefreshJobDeps,
} from '../../lambdas/market-data/refresh-job';
import {
  BACKFILL_SESSIONS,
  RANGE_LOOKBACK_DAYS,
} from '../../lambdas/market-data/domain/refresh-plan';
import { BudgetExhaustedError } from '../../lambdas/market-data/adapters/request-budget';
import { faultCase } from './harness/recorder';
import {
  CORE,
  invokeDirect,
  scanAll,
  standardSeed,
  startWorld,
  USER_A,
  type World,
  RESET_TIMEOUT_MS,
} from './harness/world';

let world: World;
let proxy: PaddingProxy;

beforeAll(async () => {
  world = await startWorld('limits');
  proxy = await startPaddingProxy(world.xai.url);
  // Read by analyzePortfolio when it builds its dependencies, on its first invocation.
  process.env.XAI_API_URL = proxy.url;
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await world?.close();
});
beforeEach(async () => {
  proxy.mode = { kind: 'pass' };
  await world.reset();
}, RESET_TIMEOUT_MS);

const bytesOf = (body: unknown) =>
  Buffer.byteLength(typeof body === 'string' ? body : JSON.stringify(body));
const n = (x: number) => x.toLocaleString('en-US');
/** A distinct, valid ticker of exactly ten characters (the longest the service accepts). */
const ticker10 = (prefix: string, i: number) => `${prefix}${String(i).padStart(9, '0')}`;

/**
 * `count` position ids that dynalite can index apart. Its global secondary indexes tell items
 * apart by a 24-bit hash of the table key (`hashPrefix` in dynalite/db/index.js), so among
 * 10,001 ids a few collide and the PortfolioIdIndex query silently returns one item per
 * collision (real DynamoDB does not); ids whose hash is taken are skipped.
 */
function dynaliteSafeIds(prefix: string, count: number): string[] {
  const taken = new Set<string>();
  const ids: string[] = [];
  for (let k = 0; ids.length < count; k++) {
    const id = `${prefix}${k}`;
    const hash = createHash('md5').update('Outliers').update(id).digest('hex').slice(0, 6);
    if (taken.has(hash)) continue;
    taken.add(hash);
    ids.push(id);
  }
  return ids;
}

/** Every message waiting in the tickers queue, parsed as refresh jobs, then the queue emptied. */
async function takeJobs(): Promise<{ job: RefreshJob; bytes: number }[]> {
  const messages = await world.peek(world.queues.tickers.queueUrl);
  await world.sqs.purge(world.queues.tickers.queueUrl);
  return messages.map((m) => ({
    job: refreshJobSchema.parse(JSON.parse(m.Body!)),
    bytes: Buffer.byteLength(m.Body!),
  }));
}

/** The world's SQS client, recording the entries and body bytes of every batch sent through it. */
function recordingClient(batches: { entries: number; bytes: number }[]): SQSClient {
  const real = world.sqs.client;
  return {
    send: (command: { constructor: { name: string }; input: unknown }) => {
      if (command.constructor.name === 'SendMessageBatchCommand') {
        const entries = (command.input as { Entries: { MessageBody: string }[] }).Entries;
        batches.push({
          entries: entries.length,
          bytes: entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody), 0),
        });
      }
      return real.send(command as never);
    },
  } as unknown as SQSClient;
}

/**
 * Runs a refresh job of `tickers` (none stored yet) until the last call of its plan, which is
 * refused by the request budget: the deferred job it re-enqueues, at its largest.
 */
async function largestDeferredJob(tickers: string[]): Promise<RefreshJob> {
  const session = latestCompletedSession(Date.now());
  const deferred: RefreshJob[] = [];
  const budget = new BudgetExhaustedError(60_000);
  const deps: RefreshJobDeps = {
    bars: {
      groupedDaily: (date) => (date === session ? Promise.reject(budget) : Promise.resolve([])),
      dailyRange: () => Promise.resolve([]),
    },
    history: { latestRows: () => Promise.resolve([]), putRows: () => Promise.resolve() },
    deferrals: {
      send: (job) => {
        deferred.push(job);
        return Promise.resolve();
      },
    },
    positions: {
      reprice: () => Promise.resolve({ updated: 0, deleted: 0, moved: 0, conflicts: 0 }),
    },
    runtime: { now: Date.now, remainingMs: () => 900_000, log: () => undefined },
  };
  const outcome = await runRefreshJob(
    {
      v: 1,
      kind: 'refresh',
      runId: 'r'.repeat(100),
      session,
      tickers,
      done: [],
      deferrals: MAX_DEFERRALS - 1,
    },
    deps,
  );
  expect(outcome).toMatchObject({ status: 'deferred', reason: 'budget', remainingCalls: 1 });
  expect(deferred).toHaveLength(1);
  return deferred[0];
}

faultCase(
  'I01',
  async (rec) => {
    const queue = world.queues.tickers.queueUrl;

    // 1. The nightly fan-out of one ticker more than a job holds, through processTickers itself.
    // 10,000 held tickers plus the benchmark (SPY), which every nightly run refreshes: 10,001.
    const held = Array.from({ length: MAX_TICKERS_PER_JOB }, (_, i) => ticker10('Z', i));
    const positionIds = dynaliteSafeIds('pos-limit-', held.length);
    await world.seed({
      portfolios: [{ id: CORE, userId: USER_A, name: 'Core' }],
      positions: held.map((t, i) => ({
        id: positionIds[i],
        portfolioId: CORE,
        ticker: t,
        shares: '1',
        costBasis: '10',
      })),
      knownTickers: [],
    });
    const fanOut = await invokeDirect(world, 'processTickers', {});
    expect(fanOut.error).toBeUndefined();
    expect(fanOut.result).toMatchObject({
      tickersFound: MAX_TICKERS_PER_JOB + 1,
      tickersQueued: MAX_TICKERS_PER_JOB + 1,
      jobsQueued: 2,
    });
    const split = (await takeJobs()).sort((a, b) => b.job.tickers.length - a.job.tickers.length);
    expect(split.map((j) => j.job.tickers.length)).toEqual([MAX_TICKERS_PER_JOB, 1]);
    expect(new Set(split.flatMap((j) => j.job.tickers))).toEqual(new Set([...held, 'SPY']));
    for (const j of split) expect(j.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    rec.did(
      `nightly run of ${n(held.length)} held 10-character tickers and the benchmark SPY: 2 jobs queued, of ${n(split[0].job.tickers.length)} tickers (${n(split[0].bytes)} bytes) and 1 ticker (${n(split[1].bytes)} bytes); limit ${n(MAX_MESSAGE_BYTES)}`,
    );
    rec.checked(
      `${n(MAX_TICKERS_PER_JOB + 1)} tickers (10,000 held, and SPY) are split into jobs of ${n(MAX_TICKERS_PER_JOB)} and 1, every ticker queued once`,
      `each queued job is at most ${n(MAX_MESSAGE_BYTES)} bytes`,
    );

    // 2. The largest job the refresh can re-enqueue: every ticker new (rebuilt), its grouped
    //    backfill planned and done but for the last call, the longest runId, the most deferrals.
    const tickers = Array.from({ length: MAX_TICKERS_PER_JOB }, (_, i) => ticker10('T', i));
    const deferred = await largestDeferredJob(tickers);
    expect(deferred.rebuild?.indexes).toHaveLength(MAX_TICKERS_PER_JOB);
    expect(deferred.plan?.calls).toHaveLength(BACKFILL_SESSIONS);
    expect(deferred.done).toHaveLength(BACKFILL_SESSIONS - 1);
    const deferredBytes = bytesOf(deferred);
    expect(deferredBytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    await createJobQueue({ client: world.sqs.client, queueUrl: queue }).send(deferred, 0);
    const [arrived] = await takeJobs();
    expect(arrived.job).toEqual(deferred);
    rec.did(
      `largest deferred job (${n(MAX_TICKERS_PER_JOB)} new tickers, ${deferred.plan!.calls.length} grouped calls, ${deferred.done.length} done): ${n(deferredBytes)} bytes of ${n(MAX_MESSAGE_BYTES)}, queued and read back intact`,
    );

    // An envelope no plan reaches: the planner makes at most BACKFILL_SESSIONS + 1 calls (a range
    // plan never costs more than the grouped one), so every call a range call of a 10-character
    // ticker, all done but one, with every ticker rebuilt as well.
    const range = (t: string) => ({
      kind: 'range' as const,
      ticker: t,
      // The earliest start the message bounds accept (refresh-job/bounds.ts), same length as any.
      from: new Date(Date.parse(`${deferred.session}T00:00:00Z`) - RANGE_LOOKBACK_DAYS * 86_400_000)
        .toISOString()
        .slice(0, 10),
      to: deferred.session,
    });
    const calls = tickers.slice(0, BACKFILL_SESSIONS + 1).map(range);
    const envelope: RefreshJob = refreshJobSchema.parse({
      ...deferred,
      plan: { strategy: 'range', calls },
      done: calls.slice(1).map((c) => `range:${c.ticker}`),
      deferrals: MAX_DEFERRALS,
    });
    const envelopeBytes = bytesOf(envelope);
    expect(envelopeBytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    rec.did(
      `upper envelope of any deferred job (${calls.length} range calls as well as ${n(MAX_TICKERS_PER_JOB)} rebuilt tickers): ${n(envelopeBytes)} bytes of ${n(MAX_MESSAGE_BYTES)}`,
    );
    rec.checked(
      `the largest deferred job and the envelope of any job fit one SQS message (≤ ${n(MAX_MESSAGE_BYTES)} bytes) and read back equal`,
    );

    // 3. The check at the byte: a body of exactly the limit is sent; one byte more is refused
    //    before anything reaches SQS, naming its size and the limit.
    const direct = createJobQueue({ client: world.sqs.client, queueUrl: queue });
    const padded = (bytes: number) => ({ pad: 'x'.repeat(bytes - bytesOf({ pad: '' })) });
    await direct.send(padded(MAX_MESSAGE_BYTES));
    const atLimit = await world.peek(queue);
    expect(atLimit.map((m) => Buffer.byteLength(m.Body!))).toEqual([MAX_MESSAGE_BYTES]);
    await world.sqs.purge(queue);
    const over = await direct.sendAll([{ small: true }, padded(MAX_MESSAGE_BYTES + 1)]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(over).toBeInstanceOf(MessageTooLargeError);
    expect((over as Error).message).toContain(`${n(MAX_MESSAGE_BYTES + 1)} bytes`);
    expect((over as Error).message).toContain(`limit of ${n(MAX_MESSAGE_BYTES)} bytes`);
    expect(await world.peek(queue)).toEqual([]);
    rec.did(
      `a ${n(MAX_MESSAGE_BYTES)}-byte body was queued; a batch holding a ${n(MAX_MESSAGE_BYTES + 1)}-byte body was refused whole ("${(over as Error).message.slice(0, 90)}…"), 0 messages sent`,
    );
    rec.checked(
      'a body of exactly the limit is queued; one byte more throws MessageTooLargeError naming size and limit, and its batch sends nothing',
    );

    // 4. Many full jobs: SQS also caps a batch's bodies together at the limit, so the fan-out
    //    packs fewer than ten large jobs per batch instead of losing the batch.
    const many = Array.from({ length: 3 * MAX_TICKERS_PER_JOB + 1 }, (_, i) => ticker10('M', i));
    const batches: { entries: number; bytes: number }[] = [];
    const packer = createJobQueue({ client: recordingClient(batches), queueUrl: queue });
    const run = await processTickersFlow(
      { kind: 'nightly' },
      {
        holdings: {
          activePositions: () =>
            Promise.resolve([
              { positions: many.map((t, i) => ({ ticker: t, portfolioId: CORE, id: `m${i}` })) },
            ]),
        },
        queue: packer,
        now: Date.now,
        newRunId: () => 'limits-i01',
        obs: { count: () => undefined, log: () => undefined, correlate: () => undefined },
      },
    );
    expect(run).toMatchObject({ jobsQueued: 4, tickersQueued: many.length });
    for (const b of batches) {
      expect(b.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(b.entries).toBeLessThanOrEqual(MAX_BATCH_ENTRIES);
    }
    const packed = await takeJobs();
    expect(packed).toHaveLength(4);
    expect(new Set(packed.flatMap((j) => j.job.tickers)).size).toBe(many.length);
    rec.did(
      `nightly run of ${n(many.length)} tickers: 4 jobs sent in ${batches.length} batches of ${batches.map((b) => `${b.entries} (${n(b.bytes)} bytes)`).join(', ')}; all 4 jobs on the queue`,
    );
    rec.checked(
      `no batch carries more than ${n(MAX_MESSAGE_BYTES)} bytes of bodies or ${MAX_BATCH_ENTRIES} entries; every ticker queued`,
    );
  },
  240_000,
);

faultCase('I02', async (rec) => {
  const queue = world.queues.tickers.queueUrl;
  const listed = (count: number) =>
    Array.from({ length: count }, (_, i) => ticker10('Q', i).toLowerCase());

  // One over the bound: refused whole, naming the bound and what to do; nothing queued.
  const over = await invokeDirect(world, 'processTickers', {
    tickers: listed(MAX_TICKERS_PER_MANUAL_RUN + 1),
  });
  expect(over.result).toBeUndefined();
  expect(over.error).toBeInstanceOf(InvalidEventError);
  const message = over.error!.message;
  expect(message).toContain(`lists ${n(MAX_TICKERS_PER_MANUAL_RUN + 1)} tickers`);
  expect(message).toContain(`the ${n(MAX_TICKERS_PER_MANUAL_RUN)} one invocation accepts`);
  expect(message).toContain('split the list');
  expect(await world.peek(queue)).toEqual([]);
  rec.did(
    `{"tickers": [${n(MAX_TICKERS_PER_MANUAL_RUN + 1)} symbols]}: InvalidEventError "${message.slice(message.indexOf('tickers: lists'), message.indexOf('; nothing'))}…", 0 jobs queued`,
  );
  rec.checked(
    'one ticker over the bound: InvalidEventError naming the count, the bound and how to split; the queue stays empty',
  );

  // Exactly the bound: accepted, normalised, and queued as one job that fits one message.
  const at = await invokeDirect(world, 'processTickers', {
    tickers: listed(MAX_TICKERS_PER_MANUAL_RUN),
  });
  expect(at.error).toBeUndefined();
  expect(at.result).toMatchObject({
    mode: 'tickers',
    tickersQueued: MAX_TICKERS_PER_MANUAL_RUN,
    jobsQueued: 1,
  });
  const [job, ...others] = await takeJobs();
  expect(others).toEqual([]);
  expect(job.job.tickers).toHaveLength(MAX_TICKERS_PER_MANUAL_RUN);
  expect(job.job.tickers[0]).toBe(ticker10('Q', 0));
  expect(job.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  rec.did(
    `{"tickers": [${n(MAX_TICKERS_PER_MANUAL_RUN)} symbols]}: accepted, 1 job of ${n(job.job.tickers.length)} upper-cased tickers queued (${n(job.bytes)} bytes)`,
  );
  rec.checked('exactly the bound: accepted and queued as a single job');
});

faultCase('I03', async (rec) => {
  await world.seed(standardSeed());
  const analyses = async () =>
    (await scanAll(world, world.names.analyses))
      .filter((r) => r.portfolio === CORE)
      .map((r) => String(r.timestamp))
      .sort();
  const analyse = () =>
    invokeDirect(world, 'analyzePortfolio', { portfolio_id: CORE, force: true });
  const newest = async () => {
    const rows = (await scanAll(world, world.names.analyses)).filter((r) => r.portfolio === CORE);
    return rows.sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)))[0];
  };

  // The bounds are derived from the completion cap, and nest: an answer within its own limit
  // fits the body limit even with every byte JSON-escaped (\u00XX, six bytes) and an envelope.
  expect(MAX_ANSWER_BYTES).toBeGreaterThanOrEqual(COMPLETION_TOKENS_MAX * 8);
  expect(MAX_XAI_RESPONSE_BYTES).toBeGreaterThan(6 * MAX_ANSWER_BYTES + 16 * 1024);

  // 1. An answer of exactly MAX_ANSWER_BYTES: stored as it came.
  let before = await analyses();
  proxy.mode = { kind: 'answer-bytes', bytes: MAX_ANSWER_BYTES };
  const atAnswer = await analyse();
  expect(atAnswer.error).toBeUndefined();
  expect(atAnswer.result).toMatchObject({ status: 'stored' });
  expect(await analyses()).toHaveLength(before.length + 1);
  expect(Buffer.byteLength(String((await newest()).analysis))).toBe(MAX_ANSWER_BYTES);
  rec.did(`answer of ${n(MAX_ANSWER_BYTES)} bytes: stored`);

  // 2. One byte more: rejected with the limit named, nothing stored, the last analysis newest.
  before = await analyses();
  proxy.mode = { kind: 'answer-bytes', bytes: MAX_ANSWER_BYTES + 1 };
  const overAnswer = await analyse();
  expect(overAnswer.error?.name).toBe('AnalysisFailedError');
  expect(overAnswer.error?.message).toContain(
    `answer is ${n(MAX_ANSWER_BYTES + 1)} bytes, over the limit of ${n(MAX_ANSWER_BYTES)} (MAX_ANSWER_BYTES)`,
  );
  expect(overAnswer.error?.message).toContain('nothing was stored');
  expect(await analyses()).toEqual(before);
  rec.did(
    `answer of ${n(MAX_ANSWER_BYTES + 1)} bytes: rejected ("${/answer is [\d,]+ bytes, over the limit of [\d,]+ \(MAX_ANSWER_BYTES\)/.exec(overAnswer.error!.message)?.[0]}…"), no row written`,
  );

  // 3. A reason of exactly MAX_REASON_CHARS: stored; one character more: rejected.
  proxy.mode = { kind: 'reason-chars', chars: MAX_REASON_CHARS };
  const atReason = await analyse();
  expect(atReason.error).toBeUndefined();
  const stored = JSON.parse(String((await newest()).parsed_data)) as { reason: string }[];
  expect(stored[0].reason).toHaveLength(MAX_REASON_CHARS);
  before = await analyses();
  proxy.mode = { kind: 'reason-chars', chars: MAX_REASON_CHARS + 1 };
  const overReason = await analyse();
  expect(overReason.error?.message).toContain(
    `reason is ${n(MAX_REASON_CHARS + 1)} characters, over the limit of ${n(MAX_REASON_CHARS)} (MAX_REASON_CHARS)`,
  );
  expect(await analyses()).toEqual(before);
  rec.did(
    `reason of ${n(MAX_REASON_CHARS)} characters: stored; of ${n(MAX_REASON_CHARS + 1)}: rejected, no row written`,
  );

  // 4. A response body of exactly MAX_XAI_RESPONSE_BYTES: read and stored; one byte more (sent
  //    chunked, so only counting can tell): cut off as a bad response, not retried, nothing stored.
  proxy.mode = { kind: 'body-bytes', bytes: MAX_XAI_RESPONSE_BYTES };
  const atBody = await analyse();
  expect(atBody.error).toBeUndefined();
  expect(proxy.lastBodyBytes).toBe(MAX_XAI_RESPONSE_BYTES);
  before = await analyses();
  proxy.mode = { kind: 'body-bytes', bytes: MAX_XAI_RESPONSE_BYTES + 1 };
  const requestsBefore = proxy.requests;
  const overBody = await analyse();
  expect(overBody.error?.name).toBe('AnalysisFailedError');
  expect((overBody.error as { kind?: string }).kind).toBe('xai-bad-response');
  expect(overBody.error?.message).toContain(
    `ran past the limit of ${n(MAX_XAI_RESPONSE_BYTES)} bytes (MAX_XAI_RESPONSE_BYTES)`,
  );
  expect(proxy.requests - requestsBefore).toBe(1);
  expect(await analyses()).toEqual(before);
  rec.did(
    `xAI body of ${n(MAX_XAI_RESPONSE_BYTES)} bytes: stored; of ${n(MAX_XAI_RESPONSE_BYTES + 1)} bytes (chunked): XaiBadResponseError after 1 request, no row written`,
  );
  rec.checked(
    'answer, reason and response body each accepted at exactly their limit and stored',
    'one byte (character) over: rejected with the limit named, no analysis row written, the previous analysis stays the newest',
    'an oversized body classifies as xai-bad-response and is not retried within the invocation',
    `MAX_ANSWER_BYTES ≥ 8 × COMPLETION_TOKENS_MAX; MAX_XAI_RESPONSE_BYTES > 6 × MAX_ANSWER_BYTES + 16 KiB`,
  );
});

// ---------------------------------------------------------------------------------------------
// The padding proxy in front of the xAI simulator
// ---------------------------------------------------------------------------------------------

type ProxyMode =
  | { kind: 'pass' }
  /** The answer content padded with spaces (inside its JSON) to exactly `bytes`. */
  | { kind: 'answer-bytes'; bytes: number }
  /** The first score's reason replaced by `chars` characters. */
  | { kind: 'reason-chars'; chars: number }
  /** The whole response body padded with trailing spaces to exactly `bytes`, sent chunked. */
  | { kind: 'body-bytes'; bytes: number };

interface PaddingProxy {
  readonly url: string;
  mode: ProxyMode;
  /** Requests forwarded so far. */
  readonly requests: number;
  /** Bytes of the last response body sent. */
  readonly lastBodyBytes: number;
  close(): Promise<void>;
}

async function startPaddingProxy(target: string): Promise<PaddingProxy> {
  let requests = 0;
  let lastBodyBytes = 0;
  const state = { mode: { kind: 'pass' } as ProxyMode };
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      requests++;
      const upstream = await fetch(target, {
        method: 'POST',
        headers: {
          authorization: req.headers.authorization ?? '',
          'content-type': 'application/json',
        },
        body: await read(req),
      });
      let text = await upstream.text();
      const mode = state.mode;
      if (upstream.status === 200 && mode.kind !== 'pass') {
        const body = JSON.parse(text) as { choices: { message: { content: string } }[] };
        const message = body.choices[0].message;
        if (mode.kind === 'answer-bytes') {
          const base = message.content.trimEnd();
          if (!base.endsWith('}')) throw new Error('the simulator answer is not a JSON object');
          const pad = mode.bytes - Buffer.byteLength(base);
          message.content = `${base.slice(0, -1)}${' '.repeat(pad)}}`;
        }
        if (mode.kind === 'reason-chars') {
          const answer = JSON.parse(message.content) as { scores: { reason: string }[] };
          answer.scores[0].reason = 'R'.repeat(mode.chars);
          message.content = JSON.stringify(answer);
        }
        text = JSON.stringify(body);
        if (mode.kind === 'body-bytes') text += ' '.repeat(mode.bytes - Buffer.byteLength(text));
      }
      const out = Buffer.from(text, 'utf8');
      lastBodyBytes = out.length;
      res.statusCode = upstream.status;
      res.setHeader('content-type', 'application/json');
      if (mode.kind === 'body-bytes') {
        // Chunked: no content-length, so the client can only find the size by counting.
        for (let i = 0; i < out.length; i += 64 * 1024) res.write(out.subarray(i, i + 64 * 1024));
        res.end();
      } else {
        res.setHeader('content-length', out.length);
        res.end(out);
      }
    })().catch((err: unknown) => {
      res.statusCode = 599;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    get mode() {
      return state.mode;
    },
    set mode(m: ProxyMode) {
      state.mode = m;
    },
    get requests() {
      return requests;
    },
    get lastBodyBytes() {
      return lastBodyBytes;
    },
    close: () =>
      new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      ),
  };
}
