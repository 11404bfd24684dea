/**
 * `codestep hubspot-fake`: the real CLI process serves the fake with a seed file, prints the URL
 * and the token, answers the real api-client, and stops on SIGTERM; bad input exits 2 with a reason.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@hubspot/api-client';
import { startFakeCommand } from './hubspot-fake.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

function start(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, 'hubspot-fake', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, probe: () => string | undefined, exited: Promise<unknown>): Promise<string> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (done) throw new Error(`the process exited before ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

void describe('codestep hubspot-fake', () => {
  it('serves the seed on the printed URL for the printed token, then stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hs-fake-cli-'));
    const seed = join(dir, 'seed.json');
    await writeFile(
      seed,
      JSON.stringify({
        owners: [{ id: 77, email: 'owner@example.com' }],
        objects: { contacts: [{ ref: 'ada', properties: { email: 'ada@example.com' } }], companies: [{ ref: 'acme', properties: { name: 'Acme' } }] },
        associations: [{ from: 'ada', to: 'acme' }],
      }),
    );
    const proc = start(['--port', '0', '--portal', '4711', '--seed', seed, '--token', 'pat-cli-test']);
    const banner = await until('the banner', () => (/Seeded records:[\s\S]*acme/.test(proc.output()) ? proc.output() : undefined), proc.exited);
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] as string;
    assert.match(banner, /token: {2}pat-cli-test/);
    assert.match(banner, /codestep run action\.js --map-host api\.hubapi\.com=http:\/\/127\.0\.0\.1:\d+ --secret HUBSPOT_TOKEN=pat-cli-test/);
    const adaId = /ada: contacts (\d+)/.exec(banner)?.[1] as string;
    const client = new Client({ accessToken: 'pat-cli-test', basePath: url });
    const ada = await client.crm.contacts.basicApi.getById(adaId, ['email'], undefined, ['companies']);
    assert.equal(ada.properties['email'], 'ada@example.com');
    assert.equal(ada.associations?.['companies']?.results.length, 2, 'primary and unlabeled');
    const owners = await client.crm.owners.ownersApi.getPage();
    assert.equal(owners.results[0]?.id, '77');
    const info = await (await fetch(`${url}/oauth/v1/access-tokens/pat-cli-test`)).json();
    assert.equal((info as { hub_id: number }).hub_id, 4711);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
  });

  it('exits 2 with a reason for a bad flag, an unreadable or invalid seed, a busy port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hs-fake-cli-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ associations: [{ from: 'nobody', to: 'nothing' }] }));
    const cases: Array<[string[], RegExp]> = [
      [['--port', 'abc'], /--port must be a whole number/],
      [['--seed', join(dir, 'missing.json')], /cannot read the seed file/],
      [['--port', '0', '--seed', bad], /unknown ref/],
      [['--bogus'], /Unknown option/],
    ];
    for (const [args, message] of cases) {
      let err = '';
      const code = await startFakeCommand(args, { stdout: { write: () => undefined }, stderr: { write: (t: string) => (err += t) } });
      assert.equal(code, 2, args.join(' '));
      assert.match(err, message);
    }
    const first = await startFakeCommand(['--port', '0'], { stdout: { write: () => undefined }, stderr: { write: () => undefined } });
    assert.ok(typeof first !== 'number');
    let err = '';
    const busy = await startFakeCommand(['--port', String(first.port)], { stdout: { write: () => undefined }, stderr: { write: (t: string) => (err += t) } });
    assert.equal(busy, 2);
    assert.match(err, /EADDRINUSE.*--port 0/);
    await first.close();
  });
});
