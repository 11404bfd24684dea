import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { diffLines, unifiedDiff, type DiffOp } from './line-diff.ts';

const sideOf = (ops: DiffOp[], side: 'a' | 'b') => ops.filter((o) => o.op === 'equal' || o.op === (side === 'a' ? 'delete' : 'insert')).map((o) => o.line);
const edits = (ops: DiffOp[]) => ops.filter((o) => o.op !== 'equal').length;

/** The shortest edit distance by dynamic programming (LCS), the reference for small inputs. */
function lcsDistance(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return a.length + b.length - 2 * dp[a.length]![b.length]!;
}

describe('line diff', () => {
  it('given two texts, the script rebuilds both and is as short as the LCS says (property)', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 14 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const ops = diffLines(a.join('\n'), b.join('\n'));
        const split = (x: string[]) => (x.join('\n') === '' ? [] : x.join('\n').split('\n'));
        assert.deepEqual(sideOf(ops, 'a'), split(a));
        assert.deepEqual(sideOf(ops, 'b'), split(b));
        assert.equal(edits(ops), lcsDistance(split(a), split(b)));
      }),
      { numRuns: 500 },
    );
  });

  it('renders one changed line as a unified hunk with three lines of context', () => {
    const a = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8'].join('\n');
    const b = a.replace('l5', 'L5');
    assert.equal(unifiedDiff(a, b, { from: 'v1/a', to: 'v2/a' }), ['--- v1/a', '+++ v2/a', '@@ -2,7 +2,7 @@', ' l2', ' l3', ' l4', '-l5', '+L5', ' l6', ' l7', ' l8', ''].join('\n'));
  });

  it('gives two hunks for changes far apart, and nothing for equal texts', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const b = a.replace('line 1\n', 'line one\n').replace('line 18', 'line eighteen');
    const diff = unifiedDiff(a, b, { from: 'a', to: 'b' });
    assert.equal(diff.match(/^@@/gm)?.length, 2);
    assert.match(diff, /^-line 1$/m);
    assert.match(diff, /^\+line eighteen$/m);
    assert.equal(unifiedDiff(a, a, { from: 'a', to: 'b' }), '');
  });

  it('shows an added text from an empty one as one insertion hunk', () => {
    assert.equal(unifiedDiff('', 'x\ny', { from: '/dev/null', to: 'b' }), ['--- /dev/null', '+++ b', '@@ -0,0 +1,2 @@', '+x', '+y', ''].join('\n'));
  });
});
