import { clip, errorText, grouped } from '../../../lambdas/platform/text';

describe('text helpers', () => {
  it('groups thousands', () => {
    expect([grouped(0), grouped(999), grouped(1_048_576)]).toEqual(['0', '999', '1,048,576']);
  });

  it('names an error, or prints the value', () => {
    expect(errorText(new RangeError('bad'))).toBe('RangeError: bad');
    expect(errorText('plain')).toBe('plain');
  });

  it('flattens whitespace and clips long text with an ellipsis', () => {
    expect(clip('  a\n\n  b\tc  ')).toBe('a b c');
    expect(clip('x'.repeat(301))).toBe(`${'x'.repeat(300)}…`);
    expect(clip('x'.repeat(300))).toBe('x'.repeat(300));
    expect(clip('abcdef', 3)).toBe('abc…');
  });
});
