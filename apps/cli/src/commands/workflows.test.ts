import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvToNdjson, workflowsCommand } from './workflows.ts';

const io = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
};

describe('codestep workflows', () => {
  it('turns a CSV into NDJSON rows (line numbers kept: an empty line stands for the header): objectId, objectType and idempotencyKey columns, the others properties; quotes and CRLF kept right', () => {
    const csv = 'objectId,email,"full name",idempotencyKey\r\n1,a@b.c,"Lovelace, Ada",k1\r\n2,,"say ""hi""",\r\n';
    assert.deepEqual(
      csvToNdjson(csv)
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l) as unknown),
      [
        { properties: { email: 'a@b.c', 'full name': 'Lovelace, Ada' }, objectId: '1', idempotencyKey: 'k1' },
        { properties: { 'full name': 'say "hi"' }, objectId: '2' },
      ],
    );
    assert.throws(() => csvToNdjson('email\na@b.c\n'), /header row with an objectId column/);
  });

  it('answers --help without starting anything, and a usage error with exit 2', async () => {
    const help = io();
    assert.equal(await workflowsCommand(['--help'], {}, help.io), 0);
    assert.match(help.out.stdout, /retry-failed <workflowId>/);
    const bad = io();
    assert.equal(await workflowsCommand(['rollback', 'wf_1'], { CODESTEP_URL: 'http://127.0.0.1:9' }, bad.io), 2);
    assert.match(bad.out.stderr, /needs --to N/);
    const unknown = io();
    assert.equal(await workflowsCommand(['frobnicate'], {}, unknown.io), 2);
  });
});
