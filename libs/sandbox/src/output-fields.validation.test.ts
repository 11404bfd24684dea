import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateOutputs } from './output-fields.validation.ts';
import type { OutputFieldSpec } from './sandbox.types.ts';

const spec = (type: OutputFieldSpec['type'], options?: string[]): OutputFieldSpec[] => [{ name: 'f', type, ...(options ? { options } : {}) }];
const ok = (raw: unknown, s?: OutputFieldSpec[]) => {
  const result = validateOutputs(raw, s);
  assert.equal(result.ok, true, JSON.stringify(result));
  return result as Extract<typeof result, { ok: true }>;
};
const bad = (raw: unknown, s?: OutputFieldSpec[]) => {
  const result = validateOutputs(raw, s);
  assert.equal(result.ok, false, JSON.stringify(result));
  return (result as Extract<typeof result, { ok: false }>).error;
};

describe('validateOutputs', () => {
  it('accepts any string, number or boolean when no outputs are declared', () => {
    assert.deepEqual(ok({ a: 'x', b: 2, c: false }).outputFields, { a: 'x', b: 2, c: false });
  });

  it('keeps an object or array as its JSON text when no outputs are declared, and rejects non-finite numbers naming the field', () => {
    assert.deepEqual(ok({ nested: { a: 1 }, list: ['1', 2] }).outputFields, { nested: '{"a":1}', list: '["1",2]' });
    assert.match(bad({ n: Number.POSITIVE_INFINITY }).message, /n: number Infinity is not a finite number/);
  });

  it('stores an object or array given for a string output as its JSON text, as HubSpot passes it on, within the string cap', () => {
    assert.deepEqual(ok({ f: { properties: { name: 'Acme' } } }, spec('string')).outputFields, { f: '{"properties":{"name":"Acme"}}' });
    assert.deepEqual(ok({ f: ['101', '102'] }, spec('string')).outputFields, { f: '["101","102"]' });
    assert.deepEqual(ok({ f: [] }, spec('string')).outputFields, { f: '[]' });
    assert.equal(bad({ f: { big: 'x'.repeat(70_000) } }, spec('string')).code, 'OUTPUT_VALUES_TOO_LARGE');
    // Other types keep refusing objects: a number or an enum has no JSON-text form.
    assert.match(bad({ f: { a: 1 } }, spec('number')).message, /f: expected a number, got an object/);
    assert.match(bad({ f: ['gold'] }, spec('enum', ['gold'])).message, /f: expected one of the enum options/);
  });

  it('treats a missing or null outputFields as no outputs, and anything else that is not an object as invalid', () => {
    assert.deepEqual(ok(undefined).outputFields, {});
    assert.deepEqual(ok(null).outputFields, {});
    assert.equal(bad([1, 2]).code, 'INVALID_OUTPUT');
    assert.equal(bad('text').code, 'INVALID_OUTPUT');
  });

  it('leaves a null value unset', () => {
    assert.deepEqual(ok({ f: null }, spec('string')).outputFields, {});
  });

  it('converts numbers and booleans to text for a string output', () => {
    assert.deepEqual(ok({ f: 12 }, spec('string')).outputFields, { f: '12' });
    assert.deepEqual(ok({ f: true }, spec('string')).outputFields, { f: 'true' });
  });

  it('fails with OUTPUT_VALUES_TOO_LARGE when a string is over 65,000 characters, naming the field', () => {
    assert.deepEqual(ok({ f: 'x'.repeat(65_000) }, spec('string')).outputFields.f?.toString().length, 65_000);
    const error = bad({ f: 'x'.repeat(65_001) }, spec('string'));
    assert.equal(error.code, 'OUTPUT_VALUES_TOO_LARGE');
    assert.match(error.message, /f \(65001 characters\)/);
    assert.equal(bad({ g: 'y'.repeat(70_000) }).code, 'OUTPUT_VALUES_TOO_LARGE');
  });

  it('accepts numbers and numeric strings for a number output and rejects the rest', () => {
    assert.deepEqual(ok({ f: 1.5 }, spec('number')).outputFields, { f: 1.5 });
    assert.deepEqual(ok({ f: ' -2e3 ' }, spec('number')).outputFields, { f: -2000 });
    assert.match(bad({ f: 'twelve' }, spec('number')).message, /f: expected a number, got "twelve"/);
    assert.equal(bad({ f: Number.NaN }, spec('number')).code, 'INVALID_OUTPUT');
  });

  it('accepts booleans and "true"/"false" for a boolean output', () => {
    assert.deepEqual(ok({ f: 'TRUE' }, spec('boolean')).outputFields, { f: true });
    assert.deepEqual(ok({ f: false }, spec('boolean')).outputFields, { f: false });
    assert.equal(bad({ f: 'yes' }, spec('boolean')).code, 'INVALID_OUTPUT');
    assert.equal(bad({ f: 1 }, spec('boolean')).code, 'INVALID_OUTPUT');
  });

  it('takes a datetime as UNIX ms or as an ISO 8601 string with a zone, and stores UNIX ms', () => {
    assert.deepEqual(ok({ f: 1714557600000 }, spec('datetime')).outputFields, { f: 1714557600000 });
    assert.deepEqual(ok({ f: '2024-05-01T10:00:00Z' }, spec('datetime')).outputFields, { f: Date.UTC(2024, 4, 1, 10) });
    assert.deepEqual(ok({ f: '2024-05-01T12:00:00+02:00' }, spec('datetime')).outputFields, { f: Date.UTC(2024, 4, 1, 10) });
    assert.deepEqual(ok({ f: '2024-05-01' }, spec('datetime')).outputFields, { f: Date.UTC(2024, 4, 1) });
    assert.deepEqual(ok({ f: '1714557600000' }, spec('datetime')).outputFields, { f: 1714557600000 });
  });

  it('rejects a datetime without a time zone, a fractional number or a non-date string', () => {
    assert.match(bad({ f: '2024-05-01T10:00:00' }, spec('datetime')).message, /f: expected a datetime/);
    assert.equal(bad({ f: 1.5 }, spec('datetime')).code, 'INVALID_OUTPUT');
    assert.equal(bad({ f: 'tomorrow' }, spec('datetime')).code, 'INVALID_OUTPUT');
  });

  it('takes a date as UNIX ms at midnight UTC or YYYY-MM-DD and rejects other times of day', () => {
    assert.deepEqual(ok({ f: Date.UTC(2024, 0, 31) }, spec('date')).outputFields, { f: Date.UTC(2024, 0, 31) });
    assert.deepEqual(ok({ f: '2024-01-31' }, spec('date')).outputFields, { f: Date.UTC(2024, 0, 31) });
    assert.match(bad({ f: Date.UTC(2024, 0, 31, 5) }, spec('date')).message, /midnight UTC/);
    assert.equal(bad({ f: '2024-02-30' }, spec('date')).code, 'INVALID_OUTPUT');
  });

  it('accepts only the declared options for an enum, and lists them when the value is not one', () => {
    assert.deepEqual(ok({ f: 'gold' }, spec('enum', ['gold', 'silver'])).outputFields, { f: 'gold' });
    assert.deepEqual(ok({ f: 2 }, spec('enum', ['1', '2'])).outputFields, { f: '2' });
    assert.match(bad({ f: 'bronze' }, spec('enum', ['gold', 'silver'])).message, /f: "bronze" is not one of the options \("gold", "silver"\)/);
  });

  it('accepts usual phone number spellings and rejects text', () => {
    for (const phone of ['+1 (555) 010-9999', '555.010.9999', '+44 20 7946 0958 ext. 12', '5550109999']) {
      assert.equal(ok({ f: phone }, spec('phone_number')).outputFields.f, phone);
    }
    assert.equal(bad({ f: 'call me maybe' }, spec('phone_number')).code, 'INVALID_OUTPUT');
    assert.equal(bad({ f: '12' }, spec('phone_number')).code, 'INVALID_OUTPUT');
  });

  it('drops an undeclared output with a warning instead of failing', () => {
    const result = ok({ f: 'x', extra: 1 }, spec('string'));
    assert.deepEqual(result.outputFields, { f: 'x' });
    assert.deepEqual(result.warnings, ['output "extra" is not declared in the action\'s outputs and was dropped']);
  });

  it('reports 150,000 undeclared outputs in one warning line naming the first ten', () => {
    const raw: Record<string, string> = { f: 'kept' };
    for (let i = 0; i < 150_000; i++) raw[`extra${i}`] = 'x';
    const result = ok(raw, spec('string'));
    assert.deepEqual(result.outputFields, { f: 'kept' });
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /^150000 outputs are not declared in the action's outputs and were dropped: "extra0", "extra1", .*"extra9" and 149990 more$/);
  });

  it('shows an undeclared name longer than the name cap cut to 100 characters, with unsafe characters escaped', () => {
    const long = `n\u202e${'x'.repeat(5000)}`;
    const [warning] = ok({ f: 'x', [long]: 1 }, spec('string')).warnings;
    assert.ok(warning!.length < 200, warning);
    assert.ok(warning!.includes('\\u202e') && !warning!.includes('\u202e'), warning);
  });

  it('without a declaration, refuses more than 250 outputs or a name over 100 characters with INVALID_OUTPUT', () => {
    const many = Object.fromEntries(Array.from({ length: 251 }, (_, i) => [`f${i}`, i]));
    assert.match(bad(many, undefined).message, /returned 251 outputs; at most 250/);
    assert.equal(ok(Object.fromEntries(Object.entries(many).slice(0, 250)), undefined).warnings.length, 0);
    const error = bad({ [`n${'x'.repeat(5000)}`]: 1 }, undefined);
    assert.equal(error.code, 'INVALID_OUTPUT');
    assert.match(error.message, /is 5001 characters; output names are at most 100 characters/);
    assert.ok(error.message.length < 400);
  });

  it('lists at most ten invalid fields in its message and counts the rest', () => {
    const specs = Array.from({ length: 30 }, (_, i) => ({ name: `n${i}`, type: 'number' as const }));
    const error = bad(Object.fromEntries(specs.map((f) => [f.name, 'text'])), specs);
    assert.match(error.message, /n9: expected a number, got "text"; and 20 more$/);
  });

  it('reports every invalid field in one message', () => {
    const error = bad({ a: 'x', b: 'y' }, [
      { name: 'a', type: 'number' },
      { name: 'b', type: 'boolean' },
    ]);
    assert.match(error.message, /a: expected a number.*; b: expected a boolean/);
  });

  it('turns hs_execution_state into the execution state, not an output', () => {
    const result = ok({ f: 'x', hs_execution_state: 'FAIL_CONTINUE' }, spec('string'));
    assert.deepEqual(result.outputFields, { f: 'x' });
    assert.equal(result.executionState, 'FAIL_CONTINUE');
    assert.equal(ok({ hs_execution_state: 'SUCCESS' }).executionState, 'SUCCESS');
    assert.match(bad({ hs_execution_state: 'MAYBE' }).message, /hs_execution_state: expected "SUCCESS" or "FAIL_CONTINUE"/);
  });
});
