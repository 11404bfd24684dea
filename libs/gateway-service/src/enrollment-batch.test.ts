import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_BATCH_ROWS, parseBatch } from './enrollment-batch.ts';

describe('parsing an enrollment batch', () => {
  it('given NDJSON with bad lines, then each bad line is an error with its line number and reason, and the good rows are kept', () => {
    const text = [
      '{"objectId": 1, "properties": {"email": "a@b.c"}}',
      '',
      '{not json',
      '{"properties": {}}',
      '{"object": {"objectId": "7", "objectType": "deal"}, "idempotencyKey": "k7"}',
      '{"objectId": 2, "colour": "red"}',
    ].join('\n');
    const out = parseBatch(text, 'bat_1');
    assert.equal(out.format, 'ndjson');
    assert.equal(out.total, 5);
    assert.deepEqual(
      out.rows.map((r) => [r.line, r.key, r.object.objectType, r.object.objectId]),
      [
        [1, 'bat_1:1', '', '1'],
        [5, 'k7', 'DEAL', '7'],
      ],
    );
    assert.deepEqual(
      out.errors.map((e) => e.line),
      [3, 4, 6],
    );
    assert.match(out.errors[0]!.reason, /not valid JSON/);
    assert.match(out.errors[1]!.reason, /objectId is required/);
    assert.match(out.errors[2]!.reason, /"colour" is not a field of a row/);
  });

  it('given a JSON array, then rows are numbered from 1; a body that is not JSON nor too many rows is refused as a whole', () => {
    const out = parseBatch('[{"objectId": "a"}, 5, {"objectId": "b", "properties": {"n": 3, "x": null}}]', 'bat_2');
    assert.deepEqual([out.format, out.total, out.rows.length, out.errors[0]?.line], ['json', 3, 2, 2]);
    assert.deepEqual(out.rows[1]!.object.properties, { n: '3' });
    assert.throws(() => parseBatch('[{"objectId": 1},', 'b'), { code: 'INVALID_ARGUMENT', message: /not valid JSON/ });
    const many = Array.from({ length: MAX_BATCH_ROWS + 1 }, (_, i) => `{"objectId":${i}}`).join('\n');
    assert.throws(() => parseBatch(many, 'b'), { code: 'INVALID_ARGUMENT', message: /at most 100000 objects, got 100001/ });
  });
});
