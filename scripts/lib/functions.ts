import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { FUNCTION_NAMES, functionSpec, type FunctionName } from '../../lib/functions';
import {
  parseAnalyzePortfolioEvent,
  parseAnalyzePortfoliosEvent,
  parseEvaluateAnalysesEvent,
  parseProcessTickerEvent,
  parseProcessTickersEvent,
} from '../../lambdas/platform/events';

export { FUNCTION_NAMES } from '../../lib/functions';

/** The functions of the nightly job, in the order it runs them (the registry's order). */
export const NIGHTLY_FUNCTIONS: readonly FunctionName[] = FUNCTION_NAMES;

/** The event shapes each function accepts, as an operator would type them (from the registry). */
export const EVENT_SHAPES: Readonly<Record<FunctionName, readonly string[]>> = Object.fromEntries(
  FUNCTION_NAMES.map((fn) => [fn, functionSpec(fn).events]),
) as Record<FunctionName, readonly string[]>;

/** The handlers' own event parsers (checkFreshness has none: it takes any JSON event). */
const PARSERS: Readonly<Record<FunctionName, ((event: unknown) => unknown) | undefined>> = {
  processTickers: parseProcessTickersEvent,
  processTicker: parseProcessTickerEvent,
  analyzePortfolios: parseAnalyzePortfoliosEvent,
  analyzePortfolio: parseAnalyzePortfolioEvent,
  checkFreshness: undefined,
  evaluateAnalyses: parseEvaluateAnalysesEvent,
};

/** A command-line mistake: the message says what is valid; the scripts exit with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The list of functions and their event shapes, for help and error messages. */
export function describeFunctions(): string {
  return FUNCTION_NAMES.map(
    (fn) => `  ${fn.padEnd(18)} ${EVENT_SHAPES[fn].join('\n' + ' '.repeat(21))}`,
  ).join('\n');
}

/**
 * Resolves a function name as typed: the exact name, any letter case, or the kebab-case file
 * name (`process-tickers`). Anything else is a {@link UsageError} listing the valid names.
 */
export function resolveFunctionName(raw: string | undefined): FunctionName {
  const wanted = (raw ?? '').replace(/[-_]/g, '').toLowerCase();
  const found = FUNCTION_NAMES.find((fn) => fn.toLowerCase() === wanted);
  if (found && wanted !== '') return found;
  throw new UsageError(
    `${raw === undefined || raw === '' ? 'No function given' : `Unknown function "${raw}"`}. ` +
      `Valid functions and the events they take:\n${describeFunctions()}`,
  );
}

/**
 * Reads an event argument: `-` reads standard input, an argument starting with `{` is inline
 * JSON, anything else is a file path. Unreadable or non-JSON input is a {@link UsageError}.
 */
export async function readEventArgument(
  arg: string | undefined,
  stdin: Readable,
): Promise<unknown> {
  if (arg === undefined || arg === '') {
    throw new UsageError(
      'No event given: pass a JSON file (see events/), "-" for standard input, or inline JSON such as \'{}\'.',
    );
  }
  let text: string;
  let source: string;
  if (arg === '-') {
    source = 'standard input';
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  } else if (arg.trimStart().startsWith('{')) {
    source = 'the inline event';
    text = arg;
  } else {
    source = arg;
    try {
      text = readFileSync(arg, 'utf8');
    } catch (err) {
      throw new UsageError(`Cannot read the event file ${arg}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`The event in ${source} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Checks an event against the function's contract (the handlers' own parsers); a mismatch is a
 * {@link UsageError} naming what was wrong and the shapes the function accepts.
 */
export function validateEvent(fn: FunctionName, event: unknown): void {
  try {
    PARSERS[fn]?.(event);
  } catch (err) {
    throw new UsageError(
      `Malformed event for ${fn}: ${(err as Error).message}\n${fn} takes:\n  ${EVENT_SHAPES[fn].join('\n  ')}`,
      { cause: err },
    );
  }
}
