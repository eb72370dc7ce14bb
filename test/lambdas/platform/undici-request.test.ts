import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, MockAgent, request as entryRequest, type Dispatcher } from 'undici';
import { request } from '../../../lambdas/platform/undici-request';

/**
 * `undici-request.ts` rebuilds undici's `request()` from its `lib/` files; these tests hold it
 * to the package entry's `request` against a real loopback server, so that an undici upgrade
 * that moves those files or changes their contract fails here.
 */

let server: Server;
let origin: string;

/** Echoes what arrived: method, path, one header and the body, as JSON; status from `?status=`. */
function echo(req: IncomingMessage, body: string) {
  const url = new URL(req.url ?? '/', 'http://x');
  return {
    status: Number(url.searchParams.get('status') ?? 200),
    payload: JSON.stringify({
      method: req.method,
      path: req.url,
      token: req.headers['x-token'] ?? null,
      body,
    }),
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { status, payload } = echo(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo': 'yes' });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** What a response is made of, for comparing the two implementations. */
async function summary(res: Dispatcher.ResponseData) {
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    echo: res.headers['x-echo'],
    body: await res.body.json(),
  };
}

describe('request (undici lib/ files)', () => {
  it('sends a GET with its query through the global dispatcher, as the package entry does', async () => {
    // Prepare
    const url = `${origin}/v2/aggs/ticker/NVDA?adjusted=true&status=203`;
    const options = { method: 'GET', headers: { 'x-token': 't1' } } as const;

    // Act
    const ours = await summary(await request(url, options));
    const theirs = await summary(await entryRequest(url, options));

    // Assess
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({
      status: 203,
      type: 'application/json',
      echo: 'yes',
      body: {
        method: 'GET',
        path: '/v2/aggs/ticker/NVDA?adjusted=true&status=203',
        token: 't1',
        body: '',
      },
    });
  });

  it('sends a POST body through a given Agent, URL object and all', async () => {
    // Prepare
    const agent = new Agent();
    const url = new URL(`${origin}/v1/chat/completions`);

    // Act
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"grok"}',
      dispatcher: agent,
    });
    const got = await summary(res);
    await agent.close();

    // Assess
    expect(got.body).toEqual({
      method: 'POST',
      path: '/v1/chat/completions',
      token: null,
      body: '{"model":"grok"}',
    });
  });

  it('dispatches through a MockAgent (the tests of the clients)', async () => {
    // Prepare
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://api.polygon.test')
      .intercept({ path: '/v1/x?a=1', method: 'GET' })
      .reply(429, 'slow down', { headers: { 'retry-after': '3' } });

    // Act
    const res = await request('https://api.polygon.test/v1/x?a=1', {
      method: 'GET',
      headers: {},
      dispatcher: agent,
    });

    // Assess
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(await res.body.text()).toBe('slow down');
    await agent.close();
  });

  it('refuses a non-HTTP URL with the package entry’s error', async () => {
    // Prepare
    const url = 'ftp://example.test/file';
    const theirs = await Promise.resolve()
      .then(() => entryRequest(url, { method: 'GET' }))
      .catch((e: unknown) => e as Error);

    // Act
    const ours = await Promise.resolve()
      .then(() => request(url, { method: 'GET' }))
      .catch((e: unknown) => e as Error);

    // Assess
    expect(ours).toBeInstanceOf(Error);
    expect((ours as Error).name).toBe((theirs as Error).name);
    expect((ours as Error).message).toBe((theirs as Error).message);
  });

  it('stops on an aborted signal with the package entry’s error', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();
    const options = { method: 'GET', signal: controller.signal } as const;
    const theirs = await entryRequest(`${origin}/slow`, options).catch((e: unknown) => e);

    // Act
    const ours = await request(`${origin}/slow`, options).catch((e: unknown) => e);

    // Assess: rejected (not resolved) with the same kind of error.
    expect(ours).not.toHaveProperty('statusCode');
    expect((ours as Error).name).toMatch(/Abort/);
    expect((ours as Error).name).toBe((theirs as Error).name);
  });
});
