/**
 * `npm run invoke -- … --stage dev|prod` against a mocked Lambda API (aws-sdk-client-mock), and
 * the argument and event errors that stop before anything is invoked.
 */
import { Readable } from 'node:stream';
import * as path from 'node:path';
import {
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { main, type InvokeIo } from '../../../scripts/invoke';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const event = (file: string) => path.join(repoRoot, 'events', file);
const lambda = mockClient(LambdaClient);

function io(stdinText = '') {
  const out: string[] = [];
  const err: string[] = [];
  const streams: InvokeIo = {
    stdin: Readable.from([Buffer.from(stdinText)]),
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { streams, out: () => out.join(''), err: () => err.join('') };
}

const base64 = (s: string) => Buffer.from(s).toString('base64');
/** A response payload as the SDK returns it (bytes; the mock needs no blob adapter). */
const payload = (text: string) => Buffer.from(text) as unknown as InvokeCommandOutput['Payload'];

beforeEach(() => lambda.reset());

describe('invoke --stage dev|prod (deployed functions)', () => {
  it('invokes the stage function with the event and the log tail, and prints payload and decoded log', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
      Payload: payload(JSON.stringify({ runId: 'r1', tickersQueued: 2 })),
      LogResult: base64('START RequestId: abc\n{"level":"INFO","message":"Refresh queued"}\nEND\n'),
    });
    const { streams, out } = io();

    // Act
    const code = await main(
      ['processTickers', event('process-tickers/tickers.json'), '--stage', 'dev'],
      streams,
    );

    // Assess
    expect(code).toBe(0);
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toMatchObject({
      FunctionName: 'zsmseven-backend-processing-api-dev-processTickers',
      InvocationType: 'RequestResponse',
      LogType: 'Tail',
    });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'))).toEqual({
      tickers: ['NVDA', 'AAPL'],
    });
    expect(await calls[0].thisValue.config.region()).toBe('us-east-1');
    expect(out()).toContain('zsmseven-backend-processing-api-dev-processTickers in us-east-1');
    expect(out()).toContain('"tickersQueued": 2');
    expect(out()).toContain('{"level":"INFO","message":"Refresh queued"}');
    expect(out()).not.toContain('FunctionError');
  });

  it('reports a function error with its payload and log and exits 1', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload(
        JSON.stringify({
          errorType: 'AnalysisFailedError',
          errorMessage: 'No portfolio is named "X"',
        }),
      ),
      LogResult: base64('ERROR No portfolio is named "X"\n'),
    });
    const { streams, out } = io();

    // Act
    const code = await main(
      ['analyzePortfolio', '{"portfolio_name": "X"}', '--stage', 'prod'],
      streams,
    );

    // Assess
    expect(code).toBe(1);
    expect(lambda.commandCalls(InvokeCommand)[0].args[0].input.FunctionName).toBe(
      'zsmseven-backend-processing-api-prod-analyzePortfolio',
    );
    expect(out()).toContain('FunctionError: Unhandled');
    expect(out()).toContain('"errorType": "AnalysisFailedError"');
    expect(out()).toContain('ERROR No portfolio is named "X"');
  });

  it('reads the event from standard input and honours --region', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('null') });
    const { streams } = io('{"ticker": "nvda"}');

    // Act
    const code = await main(
      ['process-ticker', '-', '--stage', 'dev', '--region', 'eu-west-1'],
      streams,
    );

    // Assess
    expect(code).toBe(0);
    const call = lambda.commandCalls(InvokeCommand)[0];
    expect(call.args[0].input.FunctionName).toBe(
      'zsmseven-backend-processing-api-dev-processTicker',
    );
    expect(await call.thisValue.config.region()).toBe('eu-west-1');
  });

  it('explains a function that is not deployed and exits 1', async () => {
    // Prepare
    lambda
      .on(InvokeCommand)
      .rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));
    const { streams, err } = io();

    // Act
    const code = await main(['analyzePortfolios', '{}', '--stage', 'dev'], streams);

    // Assess
    expect(code).toBe(1);
    expect(err()).toContain('ResourceNotFoundException');
    expect(err()).toContain('is the stage deployed');
  });
});

describe('invoke argument and event errors (exit 2, nothing invoked)', () => {
  it.each([
    [
      'an unknown function',
      ['fetchPrices', '{}'],
      /Unknown function "fetchPrices"[\s\S]*processTickers[\s\S]*analyzePortfolio/,
    ],
    ['no function', [], /No function given[\s\S]*processTicker/],
    ['no event', ['processTickers'], /No event given/],
    [
      'a missing event file',
      ['processTickers', 'events/nope.json'],
      /Cannot read the event file events\/nope\.json/,
    ],
    ['an event that is not JSON', ['processTickers', '{tickers: [NVDA]}'], /not valid JSON/],
    [
      'an event of the wrong shape',
      ['processTicker', '{"tickers": ["NVDA"]}'],
      /Malformed event for processTicker[\s\S]*\{"ticker": "NVDA"\}[\s\S]*an SQS event/,
    ],
    [
      'both portfolio keys',
      ['analyzePortfolio', '{"portfolio_id": "a", "portfolio_name": "b"}'],
      /Malformed event for analyzePortfolio[\s\S]*portfolio_name/,
    ],
    [
      'an unknown stage',
      ['processTickers', '{}', '--stage', 'qa'],
      /Unknown stage "qa"\. Valid stages: local, dev, prod/,
    ],
    ['an unknown option', ['processTickers', '{}', '--stgae', 'dev'], /Unknown option '--stgae'/],
  ])('rejects %s', async (_name, argv, message) => {
    // Prepare
    const { streams, err, out } = io();

    // Act
    const code = await main(argv, streams);

    // Assess
    expect(code).toBe(2);
    expect(err()).toMatch(message);
    expect(out()).toBe('');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('prints the functions and their events for --help', async () => {
    // Prepare
    const { streams, out } = io();

    // Act
    const code = await main(['--help'], streams);

    // Assess
    expect(code).toBe(0);
    expect(out()).toContain('{"portfolio_name": "ZSM Seven"}');
    expect(out()).toContain('--stage STAGE');
  });
});
