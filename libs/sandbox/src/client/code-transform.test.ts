import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectRuntime, toCommonJs } from './code-transform.ts';

describe('toCommonJs', () => {
  it("passes CommonJS through unchanged, so line numbers stay the author's", async () => {
    const code = 'exports.main = async (event) => ({ outputFields: {} });\n// module.exports too';
    const outcome = await toCommonJs(code);
    assert.ok(outcome.ok);
    assert.equal(outcome.code, code);
  });

  it('turns export class into CommonJS', async () => {
    const outcome = await toCommonJs('export class Workflow { async start() { return 1 } }');
    assert.ok(outcome.ok);
    assert.match(outcome.code, /module\.exports/);
    assert.doesNotMatch(outcome.code, /\bexport\s+class/);
  });

  it('rewrites every import() into require(), whatever the spelling', async () => {
    for (const code of ["exports.main = () => import('fs')", 'exports.main = () => import /* x */ (\n"child_process")', "exports.main = async () => { const m = 'fs'; return import(m) }"]) {
      const outcome = await toCommonJs(code);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.doesNotMatch(outcome.code, /\bimport\s*\(/, outcome.code);
      assert.match(outcome.code, /require\(/);
    }
  });

  it('reports a syntax error with its line and column', async () => {
    const outcome = await toCommonJs('export const x = ;');
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.message, /^SyntaxError: .*\(index\.js:1:\d+\)$/);
  });
});

describe('detectRuntime', () => {
  it('recognises a JsWorkflows class and defaults to HubSpot', () => {
    assert.equal(detectRuntime('export class Workflow { async start() {} }'), 'jsworkflows');
    assert.equal(detectRuntime('class Workflow {}\nexport { Workflow }'), 'jsworkflows');
    assert.equal(detectRuntime('exports.main = async () => ({})'), 'hubspot');
  });
});
