import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleLineCollector, truncationMarker } from './console-lines.collector.ts';
import { SYSTEM_LOG_RESERVE } from './limits.ts';
import type { ConsoleLine } from './sandbox.types.ts';
import { createRedactor, redactValue, REDACTED } from './redaction.ts';

const clock = () => 1000;

describe('ConsoleLineCollector', () => {
  it('keeps the level, the message and the time of each line', () => {
    const logs = new ConsoleLineCollector(createRedactor([]), undefined, clock);
    logs.add('warn', 'careful');
    assert.deepEqual(logs.snapshot(), [{ level: 'warn', message: 'careful', at: 1000 }]);
    assert.equal(logs.truncated, false);
  });

  it('files an unknown level under log', () => {
    const logs = new ConsoleLineCollector(createRedactor([]), undefined, clock);
    logs.add('shout', 'x');
    assert.equal(logs.snapshot()[0]?.level, 'log');
  });

  it('cuts a long line and says how long it was', () => {
    const logs = new ConsoleLineCollector(createRedactor([]), { maxLineChars: 10, maxTotalChars: 1000, maxLines: 10 }, clock);
    logs.add('log', 'a'.repeat(50));
    assert.equal(logs.snapshot()[0]?.message, `${'a'.repeat(10)}… [line truncated: 50 characters]`);
  });

  it('stops at the line cap and ends with one marker line counting what was dropped', () => {
    const logs = new ConsoleLineCollector(createRedactor([]), { maxLineChars: 100, maxTotalChars: 10_000, maxLines: 3 }, clock);
    for (let i = 0; i < 10; i++) logs.add('log', `line ${i}`);
    const lines = logs.snapshot();
    assert.equal(lines.length, 4);
    assert.equal(logs.truncated, true);
    assert.match(lines[3]?.message ?? '', /logs truncated: 7 more line\(s\) dropped/);
  });

  it('stops at the character cap', () => {
    const logs = new ConsoleLineCollector(createRedactor([]), { maxLineChars: 100, maxTotalChars: 25, maxLines: 100 }, clock);
    for (let i = 0; i < 5; i++) logs.add('log', '0123456789');
    assert.equal(logs.snapshot().filter((l) => l.message === '0123456789').length, 2);
    assert.equal(logs.truncated, true);
  });

  it("counts the platform's own lines in the caps, with a small reserve past them, and drops the rest into the marker", () => {
    const logs = new ConsoleLineCollector(createRedactor([]), { maxLineChars: 100, maxTotalChars: 10_000, maxLines: 3 }, clock);
    for (let i = 0; i < 3; i++) logs.add('log', `line ${i}`);
    for (let i = 0; i < 150_000; i++) logs.addSystem('warn', `output "f${i}" is not declared`);
    const lines = logs.snapshot();
    assert.equal(lines.length, 3 + SYSTEM_LOG_RESERVE.lines + 1);
    assert.equal(lines[3]?.message, 'output "f0" is not declared', 'the first platform lines fit in the reserve');
    assert.match(lines.at(-1)?.message ?? '', /logs truncated: 149990 more line\(s\) dropped/);
    logs.add('log', 'after the platform lines');
    assert.equal(logs.snapshot().length, lines.length, 'nothing is added once lines were dropped');
  });

  it("cuts and redacts the platform's own lines like the code's, and caps their characters", () => {
    const secret = 'S3CRET-VALUE-XYZ';
    const logs = new ConsoleLineCollector(createRedactor([secret]), { maxLineChars: 100, maxTotalChars: 1000, maxLines: 500 }, clock);
    logs.addSystem('error', `${secret} ${'x'.repeat(5000)}`);
    const first = logs.snapshot()[0]?.message ?? '';
    assert.ok(first.startsWith(REDACTED) && first.endsWith('… [line truncated: 5017 characters]'), first);
    for (let i = 0; i < 1000; i++) logs.addSystem('warn', 'y'.repeat(100));
    const total = logs.snapshot().reduce((sum, l) => sum + l.message.length, 0);
    assert.ok(total <= 1000 + SYSTEM_LOG_RESERVE.chars + 200, `${total} characters`);
    assert.equal(logs.truncated, true);
  });

  it('redacts secrets before cutting, so a secret at the cut is never half shown', () => {
    const secret = 'S3CRET-VALUE-XYZ';
    const logs = new ConsoleLineCollector(createRedactor([secret]), { maxLineChars: 12, maxTotalChars: 1000, maxLines: 10 }, clock);
    logs.add('log', `key=${secret}`);
    const message = logs.snapshot()[0]?.message ?? '';
    assert.ok(!message.includes('S3CRET'), message);
    assert.ok(message.startsWith(`key=${REDACTED}`.slice(0, 12)));
  });

  it('tells its listener each line it keeps, redacted and cut, and the count of lines dropped', () => {
    const seen: ConsoleLine[] = [];
    const dropped: number[] = [];
    const limits = { maxLineChars: 20, maxTotalChars: 10_000, maxLines: 2 };
    const logs = new ConsoleLineCollector(createRedactor(['S3CRET-VALUE-XYZ']), limits, clock, { line: (line) => seen.push(line), dropped: (count) => dropped.push(count) });
    logs.add('log', 'key=S3CRET-VALUE-XYZ');
    logs.add('info', 'second');
    logs.add('log', 'third');
    logs.add('log', 'fourth');
    logs.addSystem('warn', 'from the platform');
    assert.deepEqual(seen, logs.snapshot().slice(0, 3));
    assert.equal(seen[0]?.message, `key=${REDACTED}`);
    assert.deepEqual(dropped, [1, 2]);
    assert.deepEqual(logs.snapshot()[3], truncationMarker(2, 1000, limits));
  });
});

describe('createRedactor', () => {
  it('replaces every occurrence, longest secret first', () => {
    const redact = createRedactor(['abcd', 'abcdefgh']);
    assert.equal(redact('x abcdefgh y abcd'), `x ${REDACTED} y ${REDACTED}`);
  });

  it('leaves values shorter than four characters alone', () => {
    assert.equal(createRedactor(['abc'])('abc'), 'abc');
  });

  it('redacts values added later (tokens obtained during the execution)', () => {
    const redact = createRedactor([]);
    redact.add('token-123456');
    assert.equal(redact('Bearer token-123456'), `Bearer ${REDACTED}`);
  });
});

describe('redactValue', () => {
  const redact = createRedactor(['hk-0123456789']);

  it('redacts strings and keys at any depth, but not array indices', () => {
    const value = JSON.parse('{"a":["x hk-0123456789", {"hk-0123456789": 1}], "__proto__": "hk-0123456789", "n": 1234}') as Record<string, unknown>;
    redactValue(value, redact);
    assert.equal(JSON.stringify(value), `{"a":["x ${REDACTED}",{"${REDACTED}":1}],"__proto__":"${REDACTED}","n":1234}`);
    const list = Array.from({ length: 20 }, () => 'ok');
    assert.deepEqual(redactValue(list, createRedactor(['1234'])), list);
  });

  it('redacts numbers whose text holds a secret (a numeric secret returned as a number)', () => {
    const numeric = createRedactor(['98765432']);
    const value = JSON.parse('{"pin":98765432,"other":98765,"list":[198765432],"f":1.5}') as Record<string, unknown>;
    redactValue(value, numeric);
    assert.deepEqual(value, { pin: REDACTED, other: 98765, list: [`1${REDACTED}`], f: 1.5 });
    assert.equal(redactValue(98765432, numeric), REDACTED);
  });

  it('walks a result nested far deeper than the stack allows recursion', () => {
    const depth = 200_000;
    const value = JSON.parse(`${'['.repeat(depth)}"hk-0123456789"${']'.repeat(depth)}`) as unknown;
    redactValue(value, redact);
    let node: unknown = value;
    while (Array.isArray(node)) node = node[0];
    assert.equal(node, REDACTED);
  });
});
