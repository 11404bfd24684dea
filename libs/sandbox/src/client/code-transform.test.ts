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

  it('leaves import( in strings, templates, regular expressions and comments alone, in a script and in a module', async () => {
    const body = `const a = "import('fs')"; const b = \`import(\${a})\`; const c = /import\\(/; // import('fs')\n/* import( */`;
    const script = `${body}\nexports.main = async () => ({ outputFields: { a, b, c: String(c) } });`;
    const scriptOutcome = await toCommonJs(script);
    assert.ok(scriptOutcome.ok, JSON.stringify(scriptOutcome));
    assert.equal(scriptOutcome.code, script);
    const moduleOutcome = await toCommonJs(`import _ from 'lodash';\n${body}\nexport const main = async () => ({ outputFields: {} });`);
    assert.ok(moduleOutcome.ok, JSON.stringify(moduleOutcome));
    assert.ok(moduleOutcome.code.includes(body), moduleOutcome.code);
  });

  it('rewrites module syntax line for line, so every statement stays on its line', async () => {
    const code = "import _ from 'lodash';\nimport {\n  get,\n} from 'axios';\n\nexport const main = async () => {\n  throw new Error('x');\n};\nexport {\n  get,\n};\nexport default class {}\n";
    const outcome = await toCommonJs(code);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const lines = outcome.code.split('\n');
    assert.equal(lines.length, code.split('\n').length);
    assert.equal(lines[6], "  throw new Error('x');");
    assert.match(lines[11] ?? '', /= class \{\};$/);
  });

  it('refuses top-level await, which CommonJS cannot have, saying where it is', async () => {
    const outcome = await toCommonJs('import _ from "lodash";\nfor await (const x of []) {}');
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.message, /^SyntaxError: top-level await is not available.*\(index\.js:2:1\)$/);
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
    assert.equal(detectRuntime('export default class Workflow { async start() {} }'), 'jsworkflows');
    assert.equal(detectRuntime('class Workflow { async start() {} }'), 'jsworkflows', 'declared without export, as JsWorkflows documents it too');
    assert.equal(detectRuntime('function f() { class Workflow {} }\nexports.main = async () => ({})'), 'hubspot', 'only at the top level');
  });

  it('reads the exports, not the text: a Workflow class in a comment or a string is not one', () => {
    assert.equal(detectRuntime("// export class Workflow {}\nexports.main = async () => ({ outputFields: { s: 'export { Workflow }' } })"), 'hubspot');
  });
});
