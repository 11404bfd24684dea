import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('prints a workflow schedule: its trigger, the next fire times and the last tick', async () => {
    const schedule = {
      workflowId: 'wf_1',
      trigger: { type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', missed: 'runOnce' },
      status: 'enabled',
      armed: true,
      nextFireTimes: ['2026-12-08T08:00:00.000Z', '2026-12-09T08:00:00.000Z'],
      lastTick: { tickAt: '2026-12-07T08:00:00.000Z', outcome: 'fired', enrollmentId: 'enr_1', missed: 2 },
    };
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(schedule));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const out = io();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.equal(await workflowsCommand(['schedule', 'wf_1'], { CODESTEP_URL: url }, out.io), 0);
      assert.deepEqual(paths, ['/v1/workflows/wf_1/schedule']);
      assert.equal(
        out.out.stdout,
        [
          'wf_1: cron "0 9 * * MON-FRI" in Europe/Paris, missed ticks: runOnce',
          'next:',
          '  2026-12-08T08:00:00.000Z',
          '  2026-12-09T08:00:00.000Z',
          'last tick 2026-12-07T08:00:00.000Z: fired (enr_1), 2 missed',
          '',
        ].join('\n'),
      );
    } finally {
      server.close();
    }
  });
});
