import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCodestepError } from '@codestep/core';
import { parseWorkflowInput } from './workflow-definition.ts';

const action = { id: 'a', code: 'exports.main = async () => ({ outputFields: {} })' };

function refusedField(body: unknown): { field: unknown; message: string } {
  try {
    parseWorkflowInput(body);
  } catch (error) {
    assert.ok(isCodestepError(error) && error.code === 'INVALID_ARGUMENT');
    return { field: error.details?.field, message: error.message };
  }
  assert.fail('expected the workflow to be refused');
}

describe('workflow definition', () => {
  it('refuses a workflow name with a bidirectional override or a control character, naming the field', () => {
    const bidi = refusedField({ name: 'invoice\u202efdp.exe', actions: [action] });
    assert.equal(bidi.field, 'name');
    assert.match(bidi.message, /^name: contains the bidirectional formatting character U\+202E/);
    assert.ok(!bidi.message.includes('\u202e'));
    assert.equal(refusedField({ name: 'ok\u001b[2J', actions: [action] }).field, 'name');
    assert.equal(refusedField({ name: 'ok', actions: [{ ...action, name: 'step\u2067one' }] }).field, 'actions[0].name');
    assert.equal(refusedField({ name: 'ok', objectType: 'CONTACT\u0000', actions: [action] }).field, 'objectType');
  });

  it('keeps names that merely look like markup: they are escaped where shown, not refused', () => {
    assert.equal(parseWorkflowInput({ name: '<img src=x onerror=alert(1)>', actions: [action] }).name, '<img src=x onerror=alert(1)>');
  });

  it('caps the declared outputs of an action in number and name length', () => {
    const many = Array.from({ length: 251 }, (_, i) => ({ name: `f${i}`, type: 'string' }));
    assert.match(refusedField({ name: 'ok', actions: [{ ...action, outputFields: many }] }).message, /at most 250 outputs per action/);
    const long = [{ name: `f${'x'.repeat(100)}`, type: 'string' }];
    assert.equal(refusedField({ name: 'ok', actions: [{ ...action, outputFields: long }] }).field, 'actions[0].outputFields[0].name');
    assert.equal(parseWorkflowInput({ name: 'ok', actions: [{ ...action, outputFields: many.slice(0, 250) }] }).actions[0]!.outputFields.length, 250);
  });
});
