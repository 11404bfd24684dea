import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECRETS_POLICY, isValidSecretName, secretNameProblem, secretSelectionProblem, secretValueProblem } from './secrets.policy.ts';

describe('secrets policy', () => {
  it('allows no single value longer than an action may use in total', () => {
    assert.ok(SECRETS_POLICY.maxValueChars <= SECRETS_POLICY.maxTotalCharsPerAction);
    assert.equal(secretValueProblem('K', 'x'.repeat(SECRETS_POLICY.maxValueChars)), undefined);
    assert.match(secretValueProblem('K', 'x'.repeat(SECRETS_POLICY.maxValueChars + 1)) ?? '', /could never be used/);
  });

  it('takes identifiers of up to 128 characters as names', () => {
    assert.equal(isValidSecretName(`_${'a'.repeat(127)}`), true);
    assert.equal(isValidSecretName(`_${'a'.repeat(128)}`), false);
    assert.equal(isValidSecretName('9LIVES'), false);
    assert.equal(isValidSecretName(42), false);
    assert.match(secretNameProblem('has space') ?? '', /at most 128 characters/);
  });

  it('describes a name with control or bidirectional characters without repeating it', () => {
    const problem = secretNameProblem('API\u202eKEY') ?? '';
    assert.match(problem, /^secret name contains the bidirectional formatting character U\+202E/);
    assert.ok(!problem.includes('\u202e'));
    assert.match(secretNameProblem('API_KEY\u0000') ?? '', /control character U\+0000/);
  });

  it('counts each selected secret once, and unknown ones as empty, against the per-action total', () => {
    const sizes = new Map([
      ['A', 600],
      ['B', 400],
      ['C', 1],
    ]);
    assert.equal(secretSelectionProblem('act', ['A', 'B', 'A', 'UNKNOWN'], sizes), undefined);
    assert.match(secretSelectionProblem('act', ['A', 'B', 'C'], sizes) ?? '', /action "act" total 1001 characters/);
  });
});
