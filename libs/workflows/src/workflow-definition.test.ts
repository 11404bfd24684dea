import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCodestepError } from '@codestep/core';
import { actionToInput, parseWorkflowInput, runtimeVersionOf } from './workflow-definition.ts';

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

  it('takes crmProperties as HubSpot property names, each once, and refuses anything else naming the entry', () => {
    assert.deepEqual(parseWorkflowInput({ name: 'ok', actions: [action], crmProperties: ['email', 'firstname', 'email'] }).crmProperties, ['email', 'firstname']);
    assert.equal(parseWorkflowInput({ name: 'ok', actions: [action] }).crmProperties, undefined);
    assert.equal(refusedField({ name: 'ok', actions: [action], crmProperties: 'email' }).field, 'crmProperties');
    const bad = refusedField({ name: 'ok', actions: [action], crmProperties: ['email', 'first name'] });
    assert.equal(bad.field, 'crmProperties[1]');
    assert.match(bad.message, /internal name.*"first name"/);
    assert.match(refusedField({ name: 'ok', actions: [action], crmProperies: ['email'] }).message, /did you mean "crmProperties"/);
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

  it("saves a new action on HubSpot's documented Node 20 set unless it chooses another runtime version; latest is saved as node24", () => {
    const saved = parseWorkflowInput({
      name: 'w',
      actions: [action, { ...action, id: 'b', runtimeVersion: 'node24' }, { ...action, id: 'c', runtimeVersion: 'latest' }, { ...action, id: 'd', runtimeVersion: 'node20' }],
    });
    assert.deepEqual(
      saved.actions.map((a) => a.runtimeVersion),
      ['node20', 'node24', 'node24', 'node20'],
    );
    assert.deepEqual(
      saved.actions.map((a) => actionToInput(a).runtimeVersion),
      ['node20', 'node24', 'node24', 'node20'],
    );
  });

  it('refuses an unknown runtime version, naming the field and the allowed values', () => {
    for (const runtimeVersion of ['node18', 'NODE20', '', 20, true]) {
      const refused = refusedField({ name: 'w', actions: [action, { ...action, id: 'b', runtimeVersion }] });
      assert.equal(refused.field, 'actions[1].runtimeVersion');
      assert.match(refused.message, /^actions\[1\]\.runtimeVersion: .* is not a runtime version; use one of node20, node24, latest/);
    }
  });

  it('runs an action saved before runtime versions existed (none stored) on the set it had then, node24', () => {
    assert.equal(runtimeVersionOf({ runtimeVersion: '' }), 'node24');
    assert.equal(runtimeVersionOf({ runtimeVersion: 'node20' }), 'node20');
    // Saved again (a new version through the API, or the enrollment service re-checking a request), an
    // action that states none gets the default: only what was stored before versions existed means node24.
    const legacy = { ...parseWorkflowInput({ name: 'w', actions: [action] }).actions[0]!, runtimeVersion: '' };
    assert.equal(actionToInput(legacy).runtimeVersion, undefined);
    assert.equal(parseWorkflowInput({ name: 'w', actions: [actionToInput(legacy)] }).actions[0]?.runtimeVersion, 'node20');
  });
});

describe('unknown fields of a workflow body', () => {
  const code = 'exports.main = async () => ({ outputFields: {} })';
  it('refuses a misspelt field naming it and the field it likely meant, at every level', () => {
    assert.deepEqual(refusedField({ name: 'w', actions: [{ id: 'a', code, outputFeilds: [] }] }), {
      field: 'actions[0].outputFeilds',
      message:
        'actions[0].outputFeilds: is not a field here (did you mean "outputFields"?); the fields are id, name, runtime, runtimeVersion, code, inputFields, outputFields, secrets, connections, timeoutMs, memoryMb',
    });
    assert.equal(refusedField({ name: 'w', objecttype: 'DEAL', actions: [{ id: 'a', code }] }).field, 'objecttype');
    assert.equal(refusedField({ name: 'w', actions: [{ id: 'a', code, outputFields: [{ name: 'x', type: 'string', option: [] }] }] }).field, 'actions[0].outputFields[0].option');
    assert.equal(refusedField({ name: 'w', actions: [{ id: 'a', code, inputFields: [{ name: 'x', propery: 'email' }] }] }).field, 'actions[0].inputFields[0].propery');
  });

  it('accepts a workflow as GET shows it (id, version, status and the like are read-only and ignored)', () => {
    const out = parseWorkflowInput({
      id: 'wf_1',
      version: 3,
      createdAt: 'x',
      status: 'enabled',
      statusChangedAt: null,
      rolledBackFrom: 1,
      name: 'w',
      objectType: 'CONTACT',
      actions: [{ id: 'a', code }],
    });
    assert.equal(out.name, 'w');
  });
});
