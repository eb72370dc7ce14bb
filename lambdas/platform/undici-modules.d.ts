/**
 * Types of the three undici files that `undici-request.ts` loads directly (undici ships types for
 * its package entry only). Their shapes are those of undici 7's `lib/` (see that module).
 */
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** `Dispatcher.prototype.request`, called with the dispatcher as `this`. */
  function request(
    this: Dispatcher,
    options: Dispatcher.RequestOptions,
  ): Promise<Dispatcher.ResponseData>;
  export = request;
}

declare module 'undici/lib/global.js' {
  import type { Dispatcher } from 'undici';
  /** The process-wide Agent (created by this module when none is installed yet). */
  export function getGlobalDispatcher(): Dispatcher;
}

declare module 'undici/lib/core/util.js' {
  /** undici's own URL check: an `http:`/`https:` URL, else an `InvalidArgumentError`. */
  export function parseURL(url: string | URL): URL;
}
