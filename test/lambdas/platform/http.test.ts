import { MockAgent } from 'undici';
import {
  parseRetryAfter,
  redactor,
  sendOnce,
  TransportFailure,
  withRetries,
  type RetryOptions,
} from '../../../lambdas/platform/http';
import { UpstreamError } from '../../../lambdas/platform/upstream-error';

const ORIGIN = 'https://upstream.test';

describe('parseRetryAfter', () => {
  it.each([
    ['5', 5_000],
    ['0', 0],
    ['1.5', 1_500],
    ['Mon, 05 Jan 2026 12:00:30 GMT', 30_000],
    ['Mon, 05 Jan 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads %p as %p ms', (value, expected) => {
    // Prepare
    const now = Date.UTC(2026, 0, 5, 12, 0, 0);

    // Act
    const ms = parseRetryAfter(value, now);

    // Assess
    expect(ms).toBe(expected);
  });
});

describe('redactor', () => {
  it('replaces the key, its URL-encoded form and the given patterns', () => {
    // Prepare
    const redact = redactor('k+y/1', {
      placeholder: '[X]',
      patterns: [{ re: /(token=)[^&\s]+/g, with: '$1[X]' }],
    });

    // Act
    const out = redact('key k+y/1, encoded k%2By%2F1, url ?token=abc&x=1');

    // Assess
    expect(out).toBe('key [X], encoded [X], url ?token=[X]&x=1');
  });

  it('leaves text alone for an empty key', () => {
    expect(redactor('', { placeholder: '[X]' })('nothing to hide')).toBe('nothing to hide');
  });
});

describe('sendOnce', () => {
  let agent: MockAgent;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });

  afterEach(async () => {
    await agent.close();
  });

  it('resolves any status with its body and headers', async () => {
    // Prepare
    agent
      .get(ORIGIN)
      .intercept({ path: '/x', method: 'POST', body: '{"a":1}' })
      .reply(503, 'busy', { headers: { 'retry-after': '3' } });

    // Act
    const res = await sendOnce(
      { method: 'POST', url: `${ORIGIN}/x`, headers: {}, body: '{"a":1}' },
      { dispatcher: agent, timeoutMs: 1_000 },
    );

    // Assess
    expect(res).toMatchObject({ status: 503, text: 'busy', headers: { 'retry-after': '3' } });
    expect(res.over).toBeUndefined();
  });

  it('cuts a body over the cap and says how it went over', async () => {
    // Prepare
    agent.get(ORIGIN).intercept({ path: '/big' }).reply(200, 'x'.repeat(100));
    agent
      .get(ORIGIN)
      .intercept({ path: '/declared' })
      .reply(200, 'x'.repeat(2_000), { headers: { 'content-length': '2000' } });
    const opts = { dispatcher: agent, timeoutMs: 1_000, maxBodyBytes: 10 };

    // Act
    const streamed = await sendOnce({ method: 'GET', url: `${ORIGIN}/big`, headers: {} }, opts);
    const declared = await sendOnce(
      { method: 'GET', url: `${ORIGIN}/declared`, headers: {} },
      opts,
    );

    // Assess
    expect(streamed).toMatchObject({ text: 'x'.repeat(10), over: 'ran past' });
    expect(declared).toMatchObject({ text: '', over: 'declares 2,000 bytes, over' });
  });

  it('throws a TransportFailure that says whether the deadline passed', async () => {
    // Prepare
    agent.get(ORIGIN).intercept({ path: '/slow' }).reply(200, 'late').delay(500);
    agent.get(ORIGIN).intercept({ path: '/reset' }).replyWithError(new Error('socket hang up'));

    // Act
    const slow = await sendOnce(
      { method: 'GET', url: `${ORIGIN}/slow`, headers: {} },
      { dispatcher: agent, timeoutMs: 20 },
    ).catch((err: unknown) => err);
    const reset = await sendOnce(
      { method: 'GET', url: `${ORIGIN}/reset`, headers: {} },
      { dispatcher: agent, timeoutMs: 1_000 },
    ).catch((err: unknown) => err);

    // Assess
    expect(slow).toBeInstanceOf(TransportFailure);
    expect(slow).toMatchObject({ timedOut: true, timeoutMs: 20 });
    expect(reset).toBeInstanceOf(TransportFailure);
    expect(reset).toMatchObject({ timedOut: false, message: 'socket hang up' });
  });
});

describe('withRetries', () => {
  const transient = (retryAfterMs?: number) =>
    new UpstreamError('busy', { kind: 'server', name: 'Busy', retryAfterMs });

  function options(overrides: Partial<RetryOptions<UpstreamError>> = {}) {
    const sleeps: number[] = [];
    const opts: RetryOptions<UpstreamError> = {
      maxAttempts: 3,
      backoffBaseMs: 100,
      backoffCapMs: 1_000,
      round: Math.floor,
      random: () => 0.5,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      timeoutMs: 5_000,
      retryNeedsMs: 5_000,
      isRetried: (err): err is UpstreamError => err instanceof UpstreamError,
      noTimeLeft: (ms) => new Error(`no time (${ms})`),
      ...overrides,
    };
    return { opts, sleeps };
  }

  it('retries with full-jitter delays, at least Retry-After, up to maxAttempts', async () => {
    // Prepare
    const { opts, sleeps } = options();
    const attempt = jest
      .fn<Promise<string>, [number, number]>()
      .mockRejectedValueOnce(transient())
      .mockRejectedValueOnce(transient(700))
      .mockResolvedValueOnce('ok');

    // Act
    const out = await withRetries(opts, attempt);

    // Assess
    expect(out).toBe('ok');
    expect(sleeps).toEqual([50, 700]);
    expect(attempt.mock.calls).toEqual([
      [1, 5_000],
      [2, 5_000],
      [3, 5_000],
    ]);
  });

  it('rethrows an error it does not retry, and the last one after maxAttempts', async () => {
    // Prepare
    const { opts } = options({ maxAttempts: 2 });
    const fatal = new Error('bug');

    // Act
    const notRetried = await withRetries(opts, () => Promise.reject(fatal)).catch((e) => e);
    const exhausted = await withRetries(opts, () => Promise.reject(transient())).catch((e) => e);

    // Assess
    expect(notRetried).toBe(fatal);
    expect(exhausted).toMatchObject({ name: 'Busy' });
  });

  it('stops at a Retry-After over the cap, or a wait that leaves too little time', async () => {
    // Prepare
    const capped = options({ maxRetryAfterMs: 1_000 });
    let left = 5_500;
    const onNoTimeToRetry = jest.fn();
    const late = options({ timeLeftMs: () => left, onNoTimeToRetry });

    // Act
    const overCap = await withRetries(capped.opts, () => Promise.reject(transient(2_000))).catch(
      (e) => e,
    );
    const noTime = await withRetries(late.opts, () => {
      left = 5_020;
      return Promise.reject(transient());
    }).catch((e) => e);

    // Assess
    expect(overCap).toMatchObject({ retryAfterMs: 2_000 });
    expect(capped.sleeps).toEqual([]);
    expect(noTime).toMatchObject({ name: 'Busy' });
    expect(onNoTimeToRetry).toHaveBeenCalledTimes(1);
    expect(late.sleeps).toEqual([]);
  });

  it('shortens the deadline to the time left and starts no attempt without enough', async () => {
    // Prepare
    const { opts } = options({ timeLeftMs: () => 1_500, minAttemptMs: 2_000 });
    const short = options({ timeLeftMs: () => 1_500 });
    const beforeAttempt = jest.fn(() => Promise.resolve());

    // Act
    const refused = await withRetries({ ...opts, beforeAttempt }, () =>
      Promise.resolve('never'),
    ).catch((e: Error) => e.message);
    const deadline = await withRetries(short.opts, (_n, timeoutMs) => Promise.resolve(timeoutMs));

    // Assess
    expect(refused).toBe('no time (1500)');
    expect(beforeAttempt).not.toHaveBeenCalled();
    expect(deadline).toBe(1_500);
  });
});
