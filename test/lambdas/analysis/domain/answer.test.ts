import {
  MAX_ANSWER_BYTES,
  MAX_REASON_CHARS,
  parseAnalysisAnswer,
  type AnalysisAnswer,
} from '../../../../lambdas/analysis/domain/answer';

const tickers = ['NVDA', 'AAPL'];
const scores = [
  { ticker: 'NVDA', score: -3.5, reason: 'RSI 72 is overbought.' },
  { ticker: 'AAPL', score: 1, reason: 'Near MA50, RSI neutral.' },
];
const canonical = JSON.stringify({ scores });

function expectOk(result: AnalysisAnswer): Extract<AnalysisAnswer, { ok: true }> {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result;
}

function expectError(result: AnalysisAnswer): string {
  if (result.ok) throw new Error('expected a failure');
  return result.error;
}

describe('parseAnalysisAnswer', () => {
  it('accepts the canonical answer without warnings', () => {
    // Act
    const result = expectOk(parseAnalysisAnswer(canonical, tickers));

    // Assess
    expect(result.scores).toEqual(scores);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ['a ```json fence', `\`\`\`json\n${canonical}\n\`\`\``],
    [
      'a bare ``` fence after prose',
      `Here you go:\n\`\`\`\n${JSON.stringify({ scores }, null, 2)}\n\`\`\`\nHope it helps.`,
    ],
    [
      'leading and trailing prose',
      `Sure! My analysis [v1] follows: ${canonical} Let me know [if] needed.`,
    ],
    ['a bare array', JSON.stringify(scores)],
    ['a bare array inside prose', `Scores: ${JSON.stringify(scores)}.`],
    ['{analysis: {scores}}', JSON.stringify({ analysis: { scores } })],
    ['{results: [...]}', JSON.stringify({ results: scores })],
    ['{data: {portfolio: {items}}}', JSON.stringify({ data: { portfolio: { items: scores } } })],
    ['an unknown wrapper key', JSON.stringify({ holdingScores: scores, note: 'x' })],
    [
      'a ticker map',
      JSON.stringify({
        NVDA: { score: -3.5, reason: 'RSI 72 is overbought.' },
        AAPL: { score: 1, reason: 'Near MA50, RSI neutral.' },
      }),
    ],
    ['a JSON-encoded string', JSON.stringify(canonical)],
  ])('tolerates %s', (_label, content) => {
    // Act
    const result = expectOk(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(result.scores).toEqual(scores);
  });

  it('warns when the JSON had to be extracted or unwrapped', () => {
    // Act
    const fenced = expectOk(
      parseAnalysisAnswer(
        `\`\`\`json\n${JSON.stringify({ analysis: { scores } })}\n\`\`\``,
        tickers,
      ),
    );

    // Assess
    expect(fenced.warnings).toEqual([
      'answer was not bare JSON: taken from a code fence',
      'scores were found at analysis.scores',
    ]);
  });

  it('accepts a single-entry object for a one-holding portfolio', () => {
    // Act
    const result = expectOk(parseAnalysisAnswer(JSON.stringify(scores[0]), ['NVDA']));

    // Assess
    expect(result.scores).toEqual([scores[0]]);
  });

  it('compares tickers trimmed and upper-cased and returns them in the expected order', () => {
    // Prepare
    const content = JSON.stringify({
      scores: [
        { ...scores[1], ticker: ' aapl' },
        { ...scores[0], ticker: 'nvda ' },
      ],
    });

    // Act
    const result = expectOk(parseAnalysisAnswer(content, ['nvda', 'Aapl ']));

    // Assess
    expect(result.scores.map((s) => s.ticker)).toEqual(['NVDA', 'AAPL']);
  });

  it('trims reasons and keeps integer and decimal scores as given', () => {
    // Prepare
    const content = JSON.stringify({
      scores: [
        { ticker: 'NVDA', score: 10, reason: '  Oversold.  ' },
        { ticker: 'AAPL', score: -9.95, reason: 'x' },
      ],
    });

    // Act
    const result = expectOk(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(result.scores).toEqual([
      { ticker: 'NVDA', score: 10, reason: 'Oversold.' },
      { ticker: 'AAPL', score: -9.95, reason: 'x' },
    ]);
  });

  it('drops tickers that were not asked for, with a warning', () => {
    // Prepare
    const content = JSON.stringify({
      scores: [...scores, { ticker: 'TSLA', score: 99, reason: '' }],
    });

    // Act
    const result = expectOk(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(result.scores).toEqual(scores);
    expect(result.warnings).toEqual(['dropped scores for tickers not asked for: TSLA']);
  });

  it('fails naming every missing ticker', () => {
    // Act
    const error = expectError(
      parseAnalysisAnswer(JSON.stringify({ scores: [scores[0]] }), ['NVDA', 'AAPL', 'MSFT']),
    );

    // Assess
    expect(error).toBe('answer rejected: missing scores for AAPL, MSFT');
  });

  it('repairs a ticker scored twice by keeping its first entry, with a warning', () => {
    // Act
    const result = expectOk(
      parseAnalysisAnswer(
        JSON.stringify({ scores: [...scores, { ...scores[0], ticker: 'nvda', score: 9 }] }),
        tickers,
      ),
    );

    // Assess
    expect(result.scores).toEqual(scores);
    expect(result.warnings).toEqual(['kept the first of several scores for NVDA']);
  });

  it('keeps the first entry of a duplicate even when the later one is invalid', () => {
    // Act
    const result = expectOk(
      parseAnalysisAnswer(
        JSON.stringify({ scores: [...scores, { ticker: 'AAPL', score: 99, reason: '' }] }),
        tickers,
      ),
    );

    // Assess
    expect(result.scores).toEqual(scores);
    expect(result.warnings).toEqual(['kept the first of several scores for AAPL']);
  });

  it('still fails on a missing ticker when another is duplicated', () => {
    // Act
    const error = expectError(
      parseAnalysisAnswer(JSON.stringify({ scores: [scores[0], scores[0]] }), tickers),
    );

    // Assess
    expect(error).toBe('answer rejected: missing scores for AAPL');
  });

  it.each([
    [15, 'entry 1 (NVDA): score 15 is outside -10…10'],
    [-10.5, 'entry 1 (NVDA): score -10.5 is outside -10…10'],
  ])('rejects the out-of-range score %d instead of clamping it', (score, message) => {
    // Act
    const error = expectError(
      parseAnalysisAnswer(
        JSON.stringify({ scores: [{ ...scores[0], score }, scores[1]] }),
        tickers,
      ),
    );

    // Assess
    expect(error).toBe(`answer rejected: ${message}`);
  });

  it.each([
    ['a numeric string', '"7"', 'score must be a finite number, got string "7"'],
    ['null', 'null', 'score must be a finite number, got null'],
    ['an overflowing literal', '1e999', 'score must be a finite number, got Infinity'],
  ])('rejects a score given as %s', (_label, literal, message) => {
    // Prepare
    const content = `{"scores":[{"ticker":"NVDA","score":${literal},"reason":"r"},${JSON.stringify(scores[1])}]}`;

    // Act
    const error = expectError(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(error).toBe(`answer rejected: entry 1 (NVDA): ${message}`);
  });

  it('rejects a missing score and a blank reason, naming the entries', () => {
    // Prepare
    const content = JSON.stringify({
      scores: [
        { ticker: 'NVDA', reason: 'r' },
        { ticker: 'AAPL', score: 1, reason: '   ' },
      ],
    });

    // Act
    const error = expectError(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(error).toBe(
      'answer rejected: entry 1 (NVDA): score must be a finite number, got nothing (missing); entry 2 (AAPL): reason is empty',
    );
  });

  it('rejects an entry that is not an object and reports the ticker it lacks', () => {
    // Act
    const error = expectError(
      parseAnalysisAnswer(JSON.stringify({ scores: ['NVDA', scores[1]] }), tickers),
    );

    // Assess
    expect(error).toBe(
      'answer rejected: missing scores for NVDA; entry 1: must be an object {ticker, score, reason}, got string "NVDA"',
    );
  });

  it.each([
    ['empty content', '   ', 'answer is empty'],
    [
      'prose only',
      'I think NVDA looks expensive.',
      'answer contains no parseable JSON object or array',
    ],
    [
      'JSON without scores',
      '{"summary":"fine"}',
      'answer JSON holds no scores array (expected {"scores":[{ticker, score, reason}]})',
    ],
    [
      'a truncated object',
      '{"scores":[{"ticker":"NVDA","score":-3.5,"rea',
      'answer contains no parseable JSON object or array',
    ],
  ])('fails clearly on %s', (_label, content, message) => {
    // Act
    const error = expectError(parseAnalysisAnswer(content, tickers));

    // Assess
    expect(error).toBe(message);
  });

  it('accepts an empty answer when nothing was expected', () => {
    // Act
    const result = expectOk(parseAnalysisAnswer('{"scores":[]}', []));

    // Assess
    expect(result.scores).toEqual([]);
  });
});

describe('parseAnalysisAnswer: length bounds', () => {
  /** The canonical answer padded with spaces inside its object to exactly `bytes`. */
  const padded = (bytes: number) =>
    `${canonical.slice(0, -1)}${' '.repeat(bytes - Buffer.byteLength(canonical))}}`;

  it(`accepts an answer of exactly ${MAX_ANSWER_BYTES} bytes`, () => {
    // Prepare
    const content = padded(MAX_ANSWER_BYTES);
    expect(Buffer.byteLength(content)).toBe(MAX_ANSWER_BYTES);

    // Act / Assess
    expect(expectOk(parseAnalysisAnswer(content, tickers)).scores).toEqual(scores);
  });

  it('rejects one byte more, naming the size and the limit', () => {
    // Act
    const error = expectError(parseAnalysisAnswer(padded(MAX_ANSWER_BYTES + 1), tickers));

    // Assess
    expect(error).toMatch(
      /^answer is 131,073 bytes, over the limit of 131,072 \(MAX_ANSWER_BYTES\): a runaway answer/,
    );
  });

  it('counts bytes, not characters: multi-byte text reaches the limit sooner', () => {
    // Prepare: a reason of 3-byte characters, under the limit in characters, over it in bytes.
    const reason = '€'.repeat(Math.ceil(MAX_ANSWER_BYTES / 3));
    const content = JSON.stringify({ scores: [{ ...scores[0], reason }, scores[1]] });
    expect(content.length).toBeLessThan(MAX_ANSWER_BYTES);

    // Act / Assess
    expect(expectError(parseAnalysisAnswer(content, tickers))).toContain('(MAX_ANSWER_BYTES)');
  });

  it(`accepts a reason of exactly ${MAX_REASON_CHARS} characters (after trimming)`, () => {
    // Prepare
    const reason = 'r'.repeat(MAX_REASON_CHARS);
    const content = JSON.stringify({
      scores: [{ ...scores[0], reason: ` ${reason} ` }, scores[1]],
    });

    // Act / Assess
    expect(expectOk(parseAnalysisAnswer(content, tickers)).scores[0].reason).toBe(reason);
  });

  it('rejects a reason one character longer, naming the entry and the limit', () => {
    // Prepare
    const reason = 'r'.repeat(MAX_REASON_CHARS + 1);
    const content = JSON.stringify({ scores: [scores[0], { ...scores[1], reason }] });

    // Act / Assess
    expect(expectError(parseAnalysisAnswer(content, tickers))).toBe(
      'answer rejected: entry 2 (AAPL): reason is 1,001 characters, over the limit of 1,000 (MAX_REASON_CHARS)',
    );
  });
});
