import { createHash } from 'node:crypto';

/**
 * Every key of the service's state table (`pk`), built here and only here, and the prefix of
 * each purpose. The stack grants each function `dynamodb:LeadingKeys` on exactly the prefixes of
 * its purposes (lib/functions.ts imports STATE_PREFIX), and test/lambdas/platform/state-keys.test.ts
 * checks that every key below starts with its purpose's prefix: so a key built elsewhere, or a
 * new purpose, is an IAM AccessDenied in AWS rather than a silent widening.
 */
export const STATE_PREFIX = {
  /** Polygon request budget: one item per API key (`budget#polygon#<hash>`). */
  budget: 'budget#',
  /** Bars a deferred refresh job parked until its last invocation. */
  parked: 'parked#',
  /** How far the finishing invocations of a parked job have written its rows (a cursor). */
  finish: 'finish#',
  /** The no-data memo: one item per symbol. */
  noData: 'nodata#',
  /** The refresh marker (newest refreshed session). */
  refresh: 'refresh#',
  /** Analysis idempotency claims. */
  analysisClaim: 'analysis#',
  /** A halted xAI run (a failure no retry can fix). */
  xaiHalt: 'xai-halt#',
  /** An analysis whose paid answers kept failing. */
  paidDefect: 'paid-defect#',
  /** The night's xAI spend against its cap (`spend#xai#<YYYY-MM-DD>`, the UTC day). */
  spend: 'spend#',
} as const;

export type StatePurpose = keyof typeof STATE_PREFIX;

/**
 * The first 16 hex digits of the SHA-256 of an API key: names the key's budget without storing,
 * logging or granting on the key itself (64 bits: no accidental collision between real keys).
 */
export const apiKeyHash = (key: string) =>
  createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);

export const stateKeys = {
  /** The request budget of one upstream API key (`name` = the upstream, e.g. `polygon`). */
  budget: (name: string, key: string) => `${STATE_PREFIX.budget}${name}#${apiKeyHash(key)}`,
  parked: (jobKey: string, blobId: string, chunk: number) =>
    `${STATE_PREFIX.parked}${jobKey}#${blobId}#${chunk}`,
  /** One item per parked job (`jobKey` as for `parked`). */
  finish: (jobKey: string) => `${STATE_PREFIX.finish}${jobKey}`,
  noData: (ticker: string) => `${STATE_PREFIX.noData}${ticker}`,
  refreshMarker: () => `${STATE_PREFIX.refresh}latest`,
  analysisClaim: (parts: {
    portfolioId: string;
    model: string;
    promptVersion: string;
    dataAsOf: string;
  }) =>
    `${STATE_PREFIX.analysisClaim}${parts.portfolioId}#${parts.model}#${parts.promptVersion}#${parts.dataAsOf}`,
  xaiHalt: (runId: string) => `${STATE_PREFIX.xaiHalt}${runId}`,
  /** Keyed by the analysis claim key, under its own prefix. */
  paidDefect: (claimKey: string) => `${STATE_PREFIX.paidDefect}${claimKey}`,
  /** One upstream's spend of one night (`night` = the UTC day, `YYYY-MM-DD`). */
  spend: (upstream: string, night: string) => `${STATE_PREFIX.spend}${upstream}#${night}`,
} as const;
