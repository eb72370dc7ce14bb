import type { Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import { parseURL } from 'undici/lib/core/util.js';
import { getGlobalDispatcher } from 'undici/lib/global.js';

/**
 * undici's `request()`, loaded without undici's package entry. That entry requires every export
 * when it loads: fetch, WebSocket, EventSource, the cache storage and interceptors, the mock
 * agents, SOCKS and proxy agents; about 525 KiB of a minified bundle and most of its import time.
 * The clients need only `request` on a dispatcher (the global Agent, or a test's `MockAgent`),
 * so this module loads the files it is made of: the request API, the global dispatcher (Agent,
 * Pool, Client, the HTTP/1 parser) and the URL check, and composes them as the entry's
 * `makeDispatcher` does (undici/index.js) for a URL and options without `path`.
 * `test/lambdas/platform/undici-request.test.ts` holds it to the entry's `request`.
 */
export function request(
  url: string | URL,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
    readonly method: Dispatcher.HttpMethod;
    readonly dispatcher?: Dispatcher;
  },
): Promise<Dispatcher.ResponseData> {
  const parsed = parseURL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
  });
}
