import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StageName } from '../../lib/config/stages';
import {
  FUNCTIONS,
  FUNCTION_NAMES,
  functionPhysicalName,
  type FunctionName,
} from '../../lib/functions';
import { synthStage } from '../helpers/synth';

/** What every function gets besides its own variables. */
const COMMON = [
  'NODE_OPTIONS',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
  'STAGE',
];

/** Exactly what each function's code reads (lambdas/**: requireEnv, positiveIntEnv, env.X). */
const EXPECTED_ENV: Record<FunctionName, string[]> = {
  processTickers: ['BENCHMARK_TICKER', 'PORTFOLIOS_TABLE', 'POSITIONS_TABLE', 'SQS_QUEUE_URL'],
  processTicker: [
    'POLYGON_API_KEY_SECRET',
    'POLYGON_BASE_URL',
    'POLYGON_BUDGET_TABLE',
    'POLYGON_REQUESTS_PER_MINUTE',
    'PORTFOLIOS_TABLE',
    'POSITIONS_TABLE',
    'SQS_QUEUE_URL',
    'STATE_TABLE',
    'TICKER_DATA_TABLE',
  ],
  analyzePortfolios: [
    'ANALYSIS_DEADLINE_UTC',
    'ANALYSIS_EVENT_SOURCE_MAPPING_ID',
    'ANALYSIS_MAX_CONCURRENCY',
    'ANALYSIS_QUEUE_URL',
    'PORTFOLIOS_TABLE',
    'POSITIONS_TABLE',
    'XAI_REQUESTS_PER_MINUTE',
    'XAI_SECONDS_PER_ANALYSIS',
    'XAI_TOKENS_PER_ANALYSIS',
    'XAI_TOKENS_PER_MINUTE',
  ],
  analyzePortfolio: [
    'ANALYSES_TABLE',
    'ANALYSIS_QUEUE_URL',
    'PORTFOLIOS_TABLE',
    'POSITIONS_TABLE',
    'STATE_TABLE',
    'TICKER_DATA_TABLE',
    'XAI_API_KEY_SECRET',
    'XAI_API_URL',
    'XAI_MAX_USD_PER_NIGHT',
    'XAI_MODEL',
  ],
  checkFreshness: ['STATE_TABLE'],
  evaluateAnalyses: [
    'ANALYSES_TABLE',
    'BENCHMARK_TICKER',
    'PORTFOLIOS_TABLE',
    'POSITIONS_TABLE',
    'STATE_TABLE',
    'TICKER_DATA_TABLE',
    'TRACK_RECORD_HORIZON',
    'TRACK_RECORD_TABLE',
  ],
};

describe('the registry', () => {
  it('lists the four pipeline functions of SYSTEM.md, the freshness check and the track record, in nightly order', () => {
    expect(FUNCTION_NAMES).toEqual([
      'processTickers',
      'processTicker',
      'analyzePortfolios',
      'analyzePortfolio',
      'checkFreshness',
      'evaluateAnalyses',
    ]);
  });

  it.each(FUNCTION_NAMES)('%s has an entry file under lambdas/handlers/ and events', (fn) => {
    const entry = path.join(__dirname, '..', '..', 'lambdas', 'handlers', FUNCTIONS[fn].entryFile);
    expect(existsSync(entry)).toBe(true);
    expect(FUNCTIONS[fn].events.length).toBeGreaterThan(0);
  });
});

describe.each(['dev', 'prod'] as StageName[])('function environments (%s)', (stage) => {
  const resources = Object.values(
    synthStage(stage).template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, any> }
    >,
  );
  const variablesOf = (fn: FunctionName): Record<string, unknown> => {
    const f = resources.find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.FunctionName === functionPhysicalName(stage, fn),
    );
    if (!f) throw new Error(`no function ${fn}`);
    return f.Properties.Environment.Variables;
  };

  it.each(FUNCTION_NAMES)('%s receives exactly the variables its code reads', (fn) => {
    expect(Object.keys(variablesOf(fn)).sort()).toEqual([...COMMON, ...EXPECTED_ENV[fn]].sort());
    expect(variablesOf(fn).STAGE).toBe(stage);
  });

  it('gives the API-key secret names to their one reader only', () => {
    const withXai = FUNCTION_NAMES.filter((fn) => 'XAI_API_KEY_SECRET' in variablesOf(fn));
    const withPolygon = FUNCTION_NAMES.filter((fn) => 'POLYGON_API_KEY_SECRET' in variablesOf(fn));
    expect(withXai).toEqual(['analyzePortfolio']);
    expect(withPolygon).toEqual(['processTicker']);
  });
});

describe('the registry against the code', () => {
  const lambdasDir = path.join(__dirname, '..', '..', 'lambdas');
  const read = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? read(path.join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [readFileSync(path.join(dir, e.name), 'utf8')]
          : [],
    );
  const code = read(lambdasDir).join('\n');
  const registryKeys = new Set<string>(
    FUNCTION_NAMES.flatMap((fn) => [...FUNCTIONS[fn].environment]),
  );

  it.each([...registryKeys])('%s is read by the code', (key) => {
    // `<NAME>_SECRET` is read as `${plainVar}_SECRET` with plainVar = '<NAME>'.
    const literal = key.endsWith('_SECRET') ? key.slice(0, -'_SECRET'.length) : key;
    expect(code).toMatch(new RegExp(`(['"\`]|env\\.)${literal}\\b`));
  });

  it('lists every variable the code requires in some function', () => {
    const required = [...code.matchAll(/(?:requireEnv)\(\s*'([A-Z_]+)'/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(5);
    expect(required.filter((k) => !registryKeys.has(k))).toEqual([]);
  });
});
