/**
 * `codestep run`: the command-line contract. Exit codes and the purity of stdout are checked on
 * the real CLI process (fixtures/run-cli.ts); the rest calls `runCommand` with captured output.
 * Every run starts a real sandbox host.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CLI = fixture('run-cli.ts');

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

function spawnCli(args: string[]): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
let server: http.Server;
let serverUrl: string;
const seen: Array<{ url: string; authorization: string | undefined }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codestep-run-test-'));
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/crm/v3/objects/contacts/')) res.end(JSON.stringify({ id: '901', properties: { email: 'grace@example.com' } }));
    else res.end(JSON.stringify({ hello: 'from the local server' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function eventFile(name: string, event: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(event));
  return path;
}

describe('codestep run, as a process', () => {
  it('prints one JSON object and nothing else on stdout with --json, and exits 0 on success', async () => {
    const result = await spawnCli([fixture('hello.action.js'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1, result.stdout);
    const parsed = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['status', 'outputFields', 'logs', 'error', 'durationMs']);
    assert.equal(parsed.status, 'succeeded');
    assert.deepEqual(parsed.outputFields, { greeting: 'hi there', objectId: 4 });
    assert.deepEqual(parsed.logs, [{ level: 'log', message: 'hello CONTACT 4' }]);
    assert.equal(parsed.error, null);
    assert.equal(typeof parsed.durationMs, 'number');
  });

  it('exits 1 when the action fails, with the error code and message in the JSON', async () => {
    const result = await spawnCli([fixture('throws.action.js'), '--json']);
    assert.equal(result.code, 1);
    const parsed = JSON.parse(result.stdout) as { status: string; error: { code: string; message: string } };
    assert.equal(parsed.status, 'failed');
    assert.equal(parsed.error.code, 'USER_CODE_ERROR');
    assert.equal(parsed.error.message, 'Error: the CRM said no');
  });

  it('exits 2 with a message naming the missing action file, and prints nothing on stdout', async () => {
    const missing = join(dir, 'nope.js');
    const result = await spawnCli([missing, '--json']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`codestep run: action file not found: ${missing.replaceAll('.', '\\.')}`));
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const result = await spawnCli([fixture('hello.action.js'), '--verbose']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown option '--verbose'/);
    assert.match(result.stderr, /Usage: codestep run <action\.js>/);
  });
});

describe('codestep run, usage errors', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no action file', [], /missing the action file/],
    ['two action files', ['a.js', 'b.js'], /expected one action file, got 2/],
    ['an event file that does not exist', [fixture('hello.action.js'), '--event', '/nonexistent/event.json'], /event file not found: \/nonexistent\/event\.json/],
    ['an event file that is not JSON', [fixture('hello.action.js'), '--event', fixture('broken.json')], /event file .*broken\.json is not valid JSON/],
    ['a secret without a value', [fixture('hello.action.js'), '--secret', 'TOKEN'], /--secret expects NAME=VALUE, got "TOKEN"/],
    ['a secret with a bad name', [fixture('hello.action.js'), '--secret', '1X=y'], /--secret name "1X" is not valid/],
    ['a mapped host that is not a URL', [fixture('hello.action.js'), '--map-host', 'api.hubapi.com=nowhere'], /--map-host api\.hubapi\.com: "nowhere" is not a URL/],
    ['a timeout that is not a number', [fixture('hello.action.js'), '--timeout', 'soon'], /--timeout must be a whole number, got "soon"/],
    ['a memory limit out of bounds', [fixture('hello.action.js'), '--memory', '999999'], /--memory must be from 16 to 4096, got 999999/],
    ['an unknown runtime', [fixture('hello.action.js'), '--runtime', 'deno'], /--runtime must be hubspot or jsworkflows/],
    ['an unknown runtime version', [fixture('hello.action.js'), '--runtime-version', 'node18'], /--runtime-version must be one of node20, node24, latest, got "node18"/],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 2 for ${what}`, async () => {
      const result = await run(args);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
    });
  }

  it('prints the usage with --help and exits 0', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--map-host HOST=URL/);
  });
});

describe('codestep run, the action contract', () => {
  it('uses a sample HubSpot event when no --event is given, with a fresh callbackId each run', async () => {
    const first = JSON.parse((await run([fixture('env.action.js'), '--json'])).stdout) as { outputFields: { event: string } };
    const second = JSON.parse((await run([fixture('env.action.js'), '--json'])).stdout) as { outputFields: { event: string } };
    const event = JSON.parse(first.outputFields.event) as { origin: unknown; object: unknown; inputFields: unknown; callbackId: string };
    assert.deepEqual(event.origin, { portalId: 1, actionDefinitionId: 2 });
    assert.deepEqual(event.object, { objectType: 'CONTACT', objectId: 4 });
    assert.deepEqual(event.inputFields, {});
    assert.match(event.callbackId, /^ap-1-[0-9a-f]+$/);
    assert.notEqual(event.callbackId, (JSON.parse(second.outputFields.event) as { callbackId: string }).callbackId);
  });

  it('merges the --event file over the sample event', async () => {
    const result = await run([fixture('env.action.js'), '--event', fixture('contact-event.json'), '--json']);
    const event = JSON.parse((JSON.parse(result.stdout) as { outputFields: { event: string } }).outputFields.event) as Record<string, unknown>;
    assert.deepEqual(event.object, { objectType: 'CONTACT', objectId: 901 });
    assert.deepEqual(event.inputFields, { email: 'grace@example.com' });
    assert.deepEqual(event.origin, { portalId: 1, actionDefinitionId: 2 });
  });

  it('passes --secret values as process.env and redacts them from the logs', async () => {
    const result = await run([fixture('env.action.js'), '--secret', 'API_KEY=key-0987654321', '--secret', 'OTHER=x=y', '--json']);
    const parsed = JSON.parse(result.stdout) as { outputFields: { keys: string }; logs: Array<{ message: string }> };
    assert.equal(parsed.outputFields.keys, 'API_KEY,OTHER');
    assert.deepEqual(parsed.logs, [{ level: 'log', message: 'key is [REDACTED]' }]);
    assert.ok(!result.stdout.includes('key-0987654321'));
  });

  it('sends the requests for a --map-host host to the given URL', async () => {
    const before = seen.length;
    const result = await run([
      fixture('hubspot-contact.action.js'),
      '--event',
      fixture('contact-event.json'),
      '--map-host',
      `api.hubapi.com=${serverUrl}`,
      '--secret',
      'HUBSPOT_TOKEN=pat-test-1234',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual((JSON.parse(result.stdout) as { outputFields: unknown }).outputFields, { email: 'grace@example.com' });
    assert.deepEqual(
      seen.slice(before).map((s) => [s.url.split('?')[0], s.authorization]),
      [['/crm/v3/objects/contacts/901', 'Bearer pat-test-1234']],
    );
  });

  it('blocks a loopback address unless --allow-host lifts the block for that host', async () => {
    const event = await eventFile('fetch-local.json', { inputFields: { url: `${serverUrl}/direct` } });
    const blocked = await run([fixture('fetch-url.action.js'), '--event', event, '--json']);
    assert.equal(blocked.code, 1);
    assert.match((JSON.parse(blocked.stdout) as { error: { message: string } }).error.message, /fetch failed: Request to 127\.0\.0\.1:\d+ was blocked/);
    const allowed = await run([fixture('fetch-url.action.js'), '--event', event, '--allow-host', new URL(serverUrl).host, '--json']);
    assert.equal(allowed.code, 0, allowed.stdout);
    assert.deepEqual((JSON.parse(allowed.stdout) as { outputFields: unknown }).outputFields, { status: 200, body: '{"hello":"from the local server"}' });
  });

  it('refuses a socket to a loopback address unless --allow-socket lists that host:port; a bad entry is a clear error', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const port = (echo.address() as net.AddressInfo).port;
    try {
      const event = await eventFile('socket-local.json', { inputFields: { host: '127.0.0.1', port: String(port) } });
      const blocked = await run([fixture('socket-echo.action.js'), '--event', event, '--json']);
      assert.equal(blocked.code, 1);
      assert.match((JSON.parse(blocked.stdout) as { error: { message: string } }).error.message, /Connection to 127\.0\.0\.1:\d+ was blocked.*allowSockets/);
      const allowed = await run([fixture('socket-echo.action.js'), '--event', event, '--allow-socket', `127.0.0.1:${port}`, '--json']);
      assert.equal(allowed.code, 0, allowed.stdout);
      assert.deepEqual((JSON.parse(allowed.stdout) as { outputFields: unknown }).outputFields, { reply: 'ping' });
      const bad = await run([fixture('socket-echo.action.js'), '--event', event, '--allow-socket', '127.0.0.1', '--json']);
      assert.equal(bad.code, 1);
      assert.match((JSON.parse(bad.stdout) as { error: { message: string } }).error.message, /allowSockets entry "127\.0\.0\.1" is not host:port/);
    } finally {
      echo.close();
    }
  });

  it("runs on HubSpot's documented Node 20 libraries by default, and on today's with --runtime-version node24 or latest", async () => {
    const outputs = async (args: string[]): Promise<unknown> => {
      const result = await run([fixture('versions.action.js'), '--json', ...args]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      return (JSON.parse(result.stdout) as { outputFields: unknown }).outputFields;
    };
    assert.deepEqual(await outputs([]), { associationsApi: 'object', mongoose: '6.13.11' });
    assert.deepEqual(await outputs(['--runtime-version', 'node20']), { associationsApi: 'object', mongoose: '6.13.11' });
    assert.deepEqual(await outputs(['--runtime-version', 'node24']), { associationsApi: 'undefined', mongoose: '9.13.2' });
    assert.deepEqual(await outputs(['--runtime-version', 'latest']), { associationsApi: 'undefined', mongoose: '9.13.2' });
  });

  it('applies --timeout and --memory, naming the limit that was hit', async () => {
    const slow = await run([fixture('loop.action.js'), '--timeout', '300', '--json']);
    assert.equal(slow.code, 1);
    assert.deepEqual((JSON.parse(slow.stdout) as { error: unknown }).error, { code: 'TIMEOUT', message: 'The action did not finish within its time limit of 300 ms' });
    const greedy = await run([fixture('memory.action.js'), '--memory', '48', '--json']);
    assert.equal(greedy.code, 1);
    assert.deepEqual((JSON.parse(greedy.stdout) as { error: unknown }).error, { code: 'MEMORY_LIMIT', message: 'The action exceeded its memory limit of 48 MB' });
  });

  it('runs a JsWorkflows class with the --event file as its data and prints the return value', async () => {
    const result = await run([fixture('workflow.action.js'), '--event', fixture('order.json'), '--json']);
    assert.equal(result.code, 0, result.stdout);
    const parsed = JSON.parse(result.stdout) as { returnValue: unknown };
    assert.deepEqual(parsed.returnValue, { summary: 'Order #1001 for 19.90', hasToken: false, error: 'OAuth connections are not available in this environment' });
  });

  it('runs a JsWorkflows class declared without export and shows the next steps it scheduled, without running them', async () => {
    const json = await run([fixture('chain.workflow.js'), '--event', fixture('order.json'), '--json']);
    assert.equal(json.code, 0, json.stdout);
    const parsed = JSON.parse(json.stdout) as { returnValue: unknown; nextSteps: unknown };
    assert.deepEqual(parsed.returnValue, { accepted: '#1001' });
    assert.deepEqual(parsed.nextSteps, [{ action: 'remind', delayMs: 300_000, payload: { order: '#1001' } }]);
    const text = await run([fixture('chain.workflow.js'), '--event', fixture('order.json')]);
    assert.match(text.stdout, /Scheduled next steps \(not run here\):\n {2}remind in 300 s with \{"order":"#1001"\}/);
  });

  it('shows the waits a JsWorkflows step asked for (api.waitForEvent), without a resume token', async () => {
    const json = await run([fixture('approval.workflow.js'), '--event', fixture('order.json'), '--json']);
    assert.equal(json.code, 0, json.stdout);
    const parsed = JSON.parse(json.stdout) as { returnValue: unknown; waits: unknown };
    assert.deepEqual(parsed.returnValue, { approvalRequested: true });
    assert.deepEqual(parsed.waits, [{ action: 'onApproved', timeoutMs: 7_200_000, payload: { order: '#1001' }, redirectUrl: null }]);
    const text = await run([fixture('approval.workflow.js'), '--event', fixture('order.json')]);
    assert.match(text.stdout, /Waits \(api\.waitForEvent; not resumable here\):\n {2}onApproved with \{"order":"#1001"\}, timing out in 7200 s/);
  });

  it('prints a readable summary without --json', async () => {
    const ok = await run([fixture('hello.action.js')]);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /^✔ succeeded in \d+ ms\nOutputs:\n {2}greeting = "hi there"\n {2}objectId = 4\nLogs:\n {2}\[log\] hello CONTACT 4\n$/);
    const failed = await run([fixture('throws.action.js')]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^✖ failed in \d+ ms\n {2}USER_CODE_ERROR: Error: the CRM said no\n/);
  });
});
