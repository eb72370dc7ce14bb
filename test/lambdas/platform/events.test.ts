import {
  InvalidEventError,
  MAX_TICKERS_PER_MANUAL_RUN,
  normaliseTicker,
  parseAnalyzePortfolioEvent,
  parseAnalyzePortfoliosEvent,
  parseProcessTickerEvent,
  parseProcessTickersEvent,
} from '../../../lambdas/platform/events';
import { createSqsEvent, scheduledEvent } from '../../helpers/events';

describe('parseProcessTickersEvent', () => {
  it('treats {} and a scheduled event as the nightly run', () => {
    expect(parseProcessTickersEvent({})).toEqual({ kind: 'nightly' });
    expect(parseProcessTickersEvent(scheduledEvent('2026-11-24T04:30:00Z'))).toEqual({
      kind: 'nightly',
      scheduledAt: '2026-11-24T04:30:00Z',
    });
  });

  it('accepts an explicit ticker list', () => {
    expect(parseProcessTickersEvent({ tickers: ['NVDA', 'aapl'] })).toEqual({
      kind: 'tickers',
      tickers: ['NVDA', 'aapl'],
    });
  });

  it.each([
    [{ tickers: [] }, 'at least one ticker'],
    [{ tickers: 'NVDA' }, 'tickers'],
    [{ tickers: ['NVDA'], extra: 1 }, 'extra'],
    [{ ticker: 'NVDA' }, 'keys [ticker]'],
    [null, 'null'],
    [[1, 2], 'keys'],
  ])('rejects %j with a message naming the problem and the accepted shapes', (event, fragment) => {
    expect(() => parseProcessTickersEvent(event)).toThrow(InvalidEventError);
    expect(() => parseProcessTickersEvent(event)).toThrow(fragment);
    expect(() => parseProcessTickersEvent(event)).toThrow('{"tickers": ["NVDA", "AAPL"]}');
  });
});

describe('parseProcessTickersEvent: the manual ticker bound', () => {
  const list = (count: number) => Array.from({ length: count }, (_, i) => `T${i}`);

  it(`accepts exactly ${MAX_TICKERS_PER_MANUAL_RUN} tickers`, () => {
    expect(parseProcessTickersEvent({ tickers: list(MAX_TICKERS_PER_MANUAL_RUN) })).toMatchObject({
      kind: 'tickers',
      tickers: { length: MAX_TICKERS_PER_MANUAL_RUN },
    });
  });

  it('refuses one more with the count, the bound and how to split the list', () => {
    const event = { tickers: list(MAX_TICKERS_PER_MANUAL_RUN + 1) };
    expect(() => parseProcessTickersEvent(event)).toThrow(InvalidEventError);
    expect(() => parseProcessTickersEvent(event)).toThrow(
      'tickers: lists 10,001 tickers, more than the 10,000 one invocation accepts (MAX_TICKERS_PER_MANUAL_RUN); nothing was queued: split the list',
    );
  });
});

describe('parseProcessTickerEvent', () => {
  it('accepts an SQS batch and a manual ticker (normalised)', () => {
    expect(parseProcessTickerEvent(createSqsEvent([{ a: 1 }]))).toMatchObject({
      kind: 'sqs',
      records: [{ messageId: 'msg-1' }],
    });
    expect(parseProcessTickerEvent({ ticker: ' nvda ' })).toEqual({
      kind: 'manual',
      tickers: ['NVDA'],
    });
  });

  it.each([[{ ticker: 'NOT A TICKER' }], [{ ticker: 42 }], [{ Records: [] }], [{}]])(
    'rejects %j',
    (event) => {
      expect(() => parseProcessTickerEvent(event)).toThrow(
        /processTicker cannot handle this event.*Expected one of/,
      );
    },
  );
});

describe('parseAnalyzePortfoliosEvent', () => {
  it('accepts {} and a scheduled event, rejects anything else', () => {
    expect(parseAnalyzePortfoliosEvent({}).kind).toBe('nightly');
    expect(parseAnalyzePortfoliosEvent(scheduledEvent()).kind).toBe('nightly');
    expect(() => parseAnalyzePortfoliosEvent({ portfolio_id: 'x' })).toThrow(
      /analyzePortfolios cannot handle/,
    );
  });
});

describe('parseAnalyzePortfolioEvent', () => {
  it('accepts an id, a name, force, and an SQS batch', () => {
    expect(parseAnalyzePortfolioEvent({ portfolio_id: 'abc' })).toEqual({
      kind: 'byId',
      portfolioId: 'abc',
      force: false,
    });
    expect(parseAnalyzePortfolioEvent({ portfolio_name: 'ZSM Seven', force: true })).toEqual({
      kind: 'byName',
      portfolioName: 'ZSM Seven',
      force: true,
    });
    expect(parseAnalyzePortfolioEvent(createSqsEvent(['{}'])).kind).toBe('sqs');
  });

  it.each([
    [{ portfolio_id: '' }],
    [{ portfolio_id: 'a', portfolio_name: 'b' }],
    [{ portfolio_name: 7 }],
    [{ name: 'ZSM Seven' }],
  ])('rejects %j', (event) => {
    expect(() => parseAnalyzePortfolioEvent(event)).toThrow(
      /analyzePortfolio cannot handle this event.*portfolio_id/,
    );
  });
});

describe('normaliseTicker', () => {
  it.each([
    [' nvda', 'NVDA'],
    ['BRK.B', 'BRK.B'],
    ['rds-a', 'RDS-A'],
  ])('normalises %j to %s', (raw, expected) => {
    expect(normaliseTicker(raw)).toEqual({ ok: true, ticker: expected });
  });

  it.each([[''], ['TOO-LONG-TICKER'], ['NV DA'], ['$NVDA'], [null], ['1ABC']])(
    'rejects %j with a reason',
    (raw) => {
      const result = normaliseTicker(raw);
      expect(result.ok).toBe(false);
    },
  );
});
