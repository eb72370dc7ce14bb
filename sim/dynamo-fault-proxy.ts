import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy between the AWS SDK v3 DynamoDB client and dynalite that makes DynamoDB misbehave
 * the way AWS does, for the end-to-end fault-injection suite. dynalite is a faithful engine but a
 * perfectly healthy one; in AWS the code under test must also survive:
 * - BatchWriteItem answering 200 with part of the batch in `UnprocessedItems` (partition
 *   throttling): the caller must re-send them, or writes are silently lost;
 * - throttling and server errors (`ProvisionedThroughputExceededException`,
 *   `ThrottlingException`, `RequestLimitExceeded`, HTTP 500 `InternalServerError`), which the
 *   SDK retries a few times and then surfaces;
 * - a Lambda killed (timeout, OOM) after DynamoDB applied a write but before it saw the answer:
 *   `hold` forwards the request and never answers, so the next invocation finds the write done;
 * - another writer changing an item between our read and our write: `before` runs a side effect
 *   (e.g. a direct delete in dynalite) just before the request is forwarded.
 * Every other request is forwarded byte for byte. dynalite does not verify signatures, so a
 * rewritten body only needs a corrected content-length (and no stale `x-amz-crc32` back).
 */

export type DynamoFault =
  /**
   * BatchWriteItem only: forward the first ceil(n*(1-fraction)) write requests of each table,
   * answer the rest back as UnprocessedItems (merged with whatever dynalite returns).
   */
  | { readonly kind: 'unprocessed'; readonly fraction: number }
  /** Answer an error without forwarding. */
  | {
      readonly kind: 'error';
      readonly type:
        | 'ProvisionedThroughputExceededException'
        | 'ThrottlingException'
        | 'InternalServerError'
        | 'RequestLimitExceeded';
    }
  /**
   * Forward (the write is applied) but never answer: the connection stays open until close().
   * Models a Lambda killed mid-request.
   */
  | { readonly kind: 'hold' }
  /** Run a side effect (e.g. delete an item directly in dynalite), then forward. */
  | { readonly kind: 'before'; readonly run: (request: ProxiedRequest) => Promise<void> };

export interface DynamoFaultRule {
  /** Operation name, e.g. 'BatchWriteItem', 'UpdateItem', 'PutItem'. */
  readonly operation: string;
  /** Only requests on this table (TableName, or any table of RequestItems / TransactItems). */
  readonly table?: string;
  /**
   * Skip this many matching requests (counted whether or not an earlier rule applied to them)
   * before the fault applies. @default 0
   */
  readonly after?: number;
  /** Apply to this many matching requests, then the rule is spent; forever when absent. */
  readonly times?: number;
  readonly fault: DynamoFault;
}

export interface ProxiedRequest {
  readonly operation: string;
  /** Tables the request names. */
  readonly tables: string[];
  /** Parsed JSON body. */
  readonly body: Record<string, unknown>;
  /** The fault applied, if any. */
  fault?: DynamoFault['kind'];
  /** For 'unprocessed': how many write requests were returned unprocessed. */
  unprocessed?: number;
}

export interface DynamoFaultProxy {
  /** Use as AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  /** Every request, in arrival order. */
  readonly requests: ProxiedRequest[];
  addRule(rule: DynamoFaultRule): void;
  /** Removes every rule (spent or not). */
  clearRules(): void;
  /**
   * Resolves when the next request is held by a 'hold' fault (already forwarded and applied):
   * the oldest held request not yet returned by nextHold(), else the next one to be held.
   */
  nextHold(): Promise<ProxiedRequest>;
  /** Stops listening and destroys open (held) connections. */
  close(): Promise<void>;
}

const ERROR_MESSAGES: Record<Extract<DynamoFault, { kind: 'error' }>['type'], string> = {
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  InternalServerError: 'Internal server error',
  RequestLimitExceeded:
    'Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase',
};

type WriteRequests = Record<string, unknown[]>;
type Upstream = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
/** `seen`: matching requests since the rule was added; `applied`: those it applied to. */
type LiveRule = { rule: DynamoFaultRule; seen: number; applied: number };

const readAll = (stream: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

function tablesOf(body: Record<string, unknown>): string[] {
  const tables = new Set<string>();
  if (typeof body.TableName === 'string') tables.add(body.TableName);
  for (const name of Object.keys((body.RequestItems as object | undefined) ?? {})) tables.add(name);
  for (const item of (body.TransactItems as Record<string, { TableName?: string }>[]) ?? []) {
    for (const action of Object.values(item)) if (action?.TableName) tables.add(action.TableName);
  }
  return [...tables];
}

/** Answers as DynamoDB would; an error when `type` is given. No x-amz-crc32 (it is optional). */
function answer(res: http.ServerResponse, status: number, body: object, type?: string): void {
  const text = JSON.stringify(
    type ? { __type: `com.amazonaws.dynamodb.v20120810#${type}`, ...body } : body,
  );
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(type ? { 'x-amzn-errortype': type } : {}),
  });
  res.end(text);
}

/** Starts the proxy in front of `target`, the dynalite endpoint URL. */
export async function startDynamoFaultProxy(target: string): Promise<DynamoFaultProxy> {
  const upstreamUrl = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  let rules: LiveRule[] = [];
  const unclaimedHolds: ProxiedRequest[] = [];
  const holdWaiters: { resolve: (r: ProxiedRequest) => void; reject: (e: Error) => void }[] = [];

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstreamUrl.host, 'content-length': body.length };
      const up = http.request(upstreamUrl, { method: req.method, path: req.url, headers, agent });
      up.on('response', (r) => {
        readAll(r).then(
          (b) => resolve({ status: r.statusCode ?? 500, headers: r.headers, body: b }),
          reject,
        );
      });
      up.on('error', reject);
      up.end(body);
    });

  const relay = (res: http.ServerResponse, up: Upstream, rewritten?: unknown): void => {
    const { 'transfer-encoding': _te, connection: _c, 'keep-alive': _k, ...headers } = up.headers;
    const body = rewritten === undefined ? up.body : Buffer.from(JSON.stringify(rewritten));
    if (rewritten !== undefined) delete headers['x-amz-crc32'];
    res.writeHead(up.status, { ...headers, 'content-length': body.length });
    res.end(body);
  };

  const matchRule = (p: ProxiedRequest): DynamoFault | undefined => {
    let fault: DynamoFault | undefined;
    for (const live of rules) {
      const { operation, table, after = 0, times = Infinity } = live.rule;
      if (operation !== p.operation || (table !== undefined && !p.tables.includes(table))) continue;
      if (live.applied >= times) continue;
      live.seen += 1;
      if (fault || live.seen <= after) continue;
      live.applied += 1;
      fault = live.rule.fault;
    }
    return fault;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const raw = await readAll(req);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // Forwarded as is: dynalite answers the SerializationException.
    }
    const target = req.headers['x-amz-target'];
    const operation = (Array.isArray(target) ? target[0] : (target ?? '')).split('.').pop() ?? '';
    const proxied: ProxiedRequest = { operation, tables: tablesOf(body), body };
    requests.push(proxied);
    const fault = matchRule(proxied);
    if (fault) proxied.fault = fault.kind;

    switch (fault?.kind) {
      case undefined:
        return relay(res, await forward(req, raw));
      case 'error': {
        const status = fault.type === 'InternalServerError' ? 500 : 400;
        return answer(res, status, { message: ERROR_MESSAGES[fault.type] }, fault.type);
      }
      case 'before':
        try {
          await fault.run(proxied);
        } catch (err) {
          // A test bug, not a DynamoDB behaviour: a non-retryable error that names itself.
          const message = `The 'before' side effect failed: ${(err as Error).message}`;
          return answer(res, 400, { message }, 'DynamoFaultProxyError');
        }
        return relay(res, await forward(req, raw));
      case 'hold': {
        await forward(req, raw);
        const waiter = holdWaiters.shift();
        if (waiter) waiter.resolve(proxied);
        else unclaimedHolds.push(proxied);
        return;
      }
      case 'unprocessed': {
        const keepShare = 1 - Math.min(1, Math.max(0, fault.fraction));
        const forwarded: WriteRequests = {};
        const returned: WriteRequests = {};
        let count = 0;
        for (const [table, writes] of Object.entries((body.RequestItems ?? {}) as WriteRequests)) {
          const keep = Math.max(0, Math.ceil(writes.length * keepShare));
          if (keep > 0) forwarded[table] = writes.slice(0, keep);
          if (keep < writes.length) returned[table] = writes.slice(keep);
          count += writes.length - keep;
        }
        proxied.unprocessed = count;
        // DynamoDB rejects an empty RequestItems: when nothing is kept, answer without forwarding.
        if (count > 0 && Object.keys(forwarded).length === 0)
          return answer(res, 200, { UnprocessedItems: returned });
        const newBody = Buffer.from(JSON.stringify({ ...body, RequestItems: forwarded }));
        const up = await forward(req, newBody);
        if (up.status !== 200) return relay(res, up);
        const parsed = JSON.parse(up.body.toString('utf8')) as { UnprocessedItems?: WriteRequests };
        const merged: WriteRequests = { ...parsed.UnprocessedItems };
        for (const [table, writes] of Object.entries(returned)) {
          merged[table] = [...(merged[table] ?? []), ...writes];
        }
        return relay(res, up, { ...parsed, UnprocessedItems: merged });
      }
    }
  };

  const server = http.createServer((req, res) => {
    // An upstream failure (dynalite closed) reaches the SDK as a dropped connection.
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    requests,
    addRule(rule) {
      if (rule.fault.kind === 'unprocessed' && rule.operation !== 'BatchWriteItem') {
        throw new Error(`An 'unprocessed' fault applies to BatchWriteItem, not ${rule.operation}`);
      }
      rules.push({ rule, seen: 0, applied: 0 });
    },
    clearRules() {
      rules = [];
    },
    nextHold() {
      const ready = unclaimedHolds.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => holdWaiters.push({ resolve, reject }));
    },
    async close() {
      for (const waiter of holdWaiters.splice(0))
        waiter.reject(new Error('The fault proxy closed'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // held connections included
      agent.destroy();
      await closed;
    },
  };
}
