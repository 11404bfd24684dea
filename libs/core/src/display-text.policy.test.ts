import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, unsafeTextProblem } from './display-text.policy.ts';

describe('display text policy', () => {
  it('accepts ordinary names in any script, with spaces and punctuation', () => {
    for (const name of ['score then route', 'Été → contact #1', 'مرحبا', '注文', 'a<b>&"c"', 'emoji 🚀']) assert.equal(unsafeTextProblem(name), undefined, name);
  });

  it('refuses C0 and C1 control characters and DEL, naming the character and its position', () => {
    assert.match(unsafeTextProblem('ab\u0007') ?? '', /control character U\+0007 at position 3/);
    assert.match(unsafeTextProblem('line\nbreak') ?? '', /U\+000A/);
    assert.match(unsafeTextProblem('\u001b[31mred') ?? '', /U\+001B at position 1/);
    assert.match(unsafeTextProblem('del\u007f') ?? '', /U\+007F/);
    assert.match(unsafeTextProblem('c1\u0085') ?? '', /U\+0085/);
    assert.match(unsafeTextProblem('c1\u009b') ?? '', /U\+009B/);
    assert.equal(unsafeTextProblem('\u00a0non-breaking space'), undefined);
  });

  it('refuses every bidirectional override, embedding, isolate and mark', () => {
    const bidi = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
    for (const code of bidi) assert.match(unsafeTextProblem(`invoice${String.fromCharCode(code)}fdp.exe`) ?? '', /bidirectional formatting character/, code.toString(16));
    assert.match(unsafeTextProblem('x\u202ey') ?? '', /U\+202E \(RIGHT-TO-LEFT OVERRIDE\) at position 2/);
  });

  it('never repeats the unsafe value in its message', () => {
    const problem = unsafeTextProblem('evil\u202etxt.exe') ?? '';
    assert.ok(!problem.includes('\u202e') && !problem.includes('evil'));
  });

  it('escapes the characters HTML gives meaning, so a name like an image tag is shown as text', () => {
    assert.equal(escapeHtml('<img src=x onerror=alert(1)>'), '&#60;img src=x onerror=alert(1)&#62;');
    assert.equal(escapeHtml(`"a" & 'b'`), '&#34;a&#34; &#38; &#39;b&#39;');
  });
});
