import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCodestepError } from '@codestep/core';
import { checkHandle, checkSecretName } from './names.policy.ts';

function refusal(fn: () => unknown): { message: string; field: unknown } {
  try {
    fn();
  } catch (error) {
    assert.ok(isCodestepError(error) && error.code === 'INVALID_ARGUMENT');
    return { message: error.message, field: error.details?.field };
  }
  assert.fail('expected a refusal');
}

describe('names policy', () => {
  it('refuses a handle with a bidirectional override, naming the field and the character but not repeating the handle', () => {
    const { message, field } = refusal(() => checkHandle('my\u202ehubspot'));
    assert.equal(field, 'handle');
    assert.match(message, /^connection handle contains the bidirectional formatting character U\+202E/);
    assert.ok(!message.includes('\u202e'));
  });

  it('refuses a handle or a secret name with a control character, naming the field', () => {
    assert.match(refusal(() => checkHandle('hub\u0085spot')).message, /control character U\+0085/);
    const secret = refusal(() => checkSecretName('KEY\u2066'));
    assert.equal(secret.field, 'name');
    assert.match(secret.message, /^secret name contains the bidirectional formatting character U\+2066/);
  });

  it('still accepts ordinary handles and secret names', () => {
    assert.equal(checkHandle('my-hubspot'), 'my-hubspot');
    assert.equal(checkSecretName('HAPIKEY'), 'HAPIKEY');
  });
});
