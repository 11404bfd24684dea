import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTestInput } from './action-test.routes.ts';

describe('the body of a test', () => {
  it('reads dryRun, a draft action and a record to read from HubSpot', () => {
    const input = parseTestInput({ dryRun: true, action: { code: 'exports.main = 1' }, object: { objectType: 'contacts', objectId: 7, connection: 'my-hubspot' } });
    assert.equal(input.dryRun, true);
    assert.deepEqual(input.draft, { code: 'exports.main = 1' });
    assert.deepEqual([input.readRecord, input.connection, input.object.objectId, input.object.objectType], [true, 'my-hubspot', '7', 'CONTACTS']);
  });

  it('uses the properties sent instead of reading the record, and is no dry run unless asked', () => {
    const input = parseTestInput({ object: { objectId: '7', properties: { email: 'a@b.c' } } });
    assert.deepEqual([input.readRecord, input.dryRun, input.draft], [false, false, undefined]);
    assert.equal(parseTestInput(undefined).readRecord, false);
  });

  it('refuses a dryRun that is not a boolean, an action that is not an object, an unknown object field and a bad connection, naming each', () => {
    assert.throws(() => parseTestInput({ dryRun: 'yes' }), { message: 'dryRun must be true or false' });
    assert.throws(() => parseTestInput({ action: 'exports.main = 1' }), { message: /^action must be the draft action/ });
    assert.throws(() => parseTestInput({ object: { objectId: 1, conection: 'x' } }), { message: /^object\.conection is not a field of the object; use objectType, objectId, properties, connection/ });
    assert.throws(() => parseTestInput({ object: { objectId: 1, connection: 'Not Valid' } }), { message: /^object\.connection must be the handle of a HubSpot connection/ });
  });
});
