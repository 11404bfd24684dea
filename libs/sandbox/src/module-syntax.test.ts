/**
 * Actions written with module syntax, through the real sandbox: the forms people write run as
 * before, `import(` that is only text runs, a real dynamic import is refused where it is called,
 * and error stacks point at the author's lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, workflowRequest } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;

const run = (code: string): Promise<ExecutionResult> => sandbox.execute(hubspotRequest(code));
const errorLines = (result: ExecutionResult): string =>
  result.logs
    .filter((line) => line.level === 'error')
    .map((line) => line.message)
    .join('\n');

before(async () => {
  sandbox = await createSandbox({ poolSize: 2, egress: { allowHosts: [], mapHosts: {} } });
});

after(async () => {
  await sandbox.close();
});

describe('module syntax in actions', () => {
  it('runs a CommonJS action whose string, template, regular expression and comment contain import(', async () => {
    const result = await run(`// a comment that mentions import('fs')
exports.main = async () => {
  const text = "import('x')"; const template = \`import(\${'y'})\`; const pattern = /import\\(/;
  /* import( */
  return { outputFields: { text, template, matches: pattern.test(text) } };
};`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { text: "import('x')", template: 'import(y)', matches: true });
  });

  it('runs an ES module whose string, template, regular expression and comment contain import(', async () => {
    const result = await run(`import _ from 'lodash';
// import('fs') in a comment
export const main = async () => {
  const text = "import('x')"; const template = \`import(\${_.upperFirst('y')})\`;
  return { outputFields: { text, template, matches: /import\\(/.test(text) } };
};`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { text: "import('x')", template: 'import(Y)', matches: true });
  });

  it('refuses a real dynamic import with MODULE_NOT_ALLOWED, naming the module, at the line that called it', async () => {
    const result = await run(`export const main = async () => {
  // line 2
  await import('cluster');
};`);
    assert.equal(result.error?.code, 'MODULE_NOT_ALLOWED');
    assert.match(result.error?.message ?? '', /cluster/);
    assert.match(errorLines(result), /\/action\/index\.js:3:/);
  });

  it('runs the import and export forms of the docs: default, named and namespace imports; const, async function and default exports', async () => {
    const hubspot = await run(`import _ from 'lodash';
import { isAxiosError } from 'axios';
import * as hubspot from '@hubspot/api-client';
export async function main(event) {
  return { outputFields: { chunks: _.chunk([1, 2, 3], 2).length, axios: typeof isAxiosError, client: typeof hubspot.Client } };
}`);
    assert.equal(hubspot.status, 'succeeded', JSON.stringify(hubspot.error));
    assert.deepEqual(hubspot.outputFields, { chunks: 2, axios: 'function', client: 'function' });
    const constant = await run(`export const main = async () => ({ outputFields: { form: 'const' } });`);
    assert.deepEqual(constant.outputFields, { form: 'const' });
    const defaulted = await sandbox.execute(workflowRequest(`export default class Workflow { async start(data) { return data.n + 1 } }`, { n: 1 }));
    assert.equal(defaulted.returnValue, 2, JSON.stringify(defaulted.error));
  });

  it('keeps the line numbers of an ES module in its error stacks', async () => {
    const result = await run(`import _ from 'lodash';

/* a comment
   over two lines */
export const main = async () => {

  throw new Error('on line 7');
};`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.match(errorLines(result), /\/action\/index\.js:7:/);
  });

  it('refuses top-level await with a clear message and its place', async () => {
    const result = await run(`const value = await Promise.resolve(1);\nexports.main = async () => ({ outputFields: { value } });`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.match(result.error?.message ?? '', /^SyntaxError: top-level await is not available.*\(index\.js:1:15\)$/);
  });
});
