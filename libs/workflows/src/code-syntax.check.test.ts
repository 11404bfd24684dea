import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeSyntaxProblem } from './code-syntax.check.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

describe('save-time syntax check', () => {
  it('accepts HubSpot CommonJS (async and callback forms), a JsWorkflows module, a top-level return and a hashbang', () => {
    for (const code of [
      'exports.main = async (event) => ({ outputFields: { a: event?.inputFields?.a ?? 1 } });',
      'exports.main = (event, callback) => { callback({ outputFields: {} }); };',
      'export class Workflow { async start(data, headers, api) { const { token } = await api.getOAuthToken("x"); return { token: !!token }; } }',
      'import _ from "lodash";\nexport const main = async () => ({ outputFields: { n: _.sum([1, 2]) } });',
      '#!/usr/bin/env node\nif (true) return;\nexports.main = async () => ({});',
    ])
      assert.equal(codeSyntaxProblem(code), undefined, code);
  });

  it("refuses code that does not parse with the line and column in the author's code", () => {
    assert.equal(codeSyntaxProblem('exports.main = async (event) => {\n  const x = ;\n};'), 'SyntaxError: Unexpected token at line 2, column 13');
    assert.equal(codeSyntaxProblem('export class Workflow {\n  async start() { return 1 }\n'), 'SyntaxError: Unexpected token at line 3, column 1');
  });

  it('refuses a workflow whose action does not parse, naming the action’s code field', () => {
    assert.throws(() => parseWorkflowInput({ name: 'w', actions: [{ id: 'a', code: 'exports.main = async () => {' }] }), {
      code: 'INVALID_ARGUMENT',
      message: /^actions\[0\]\.code: SyntaxError: Unexpected token at line 1, column 29 of the action's code; fix it and save again$/,
    });
  });
});
