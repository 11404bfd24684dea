/**
 * The public gRPC API as another team's service uses it: the embedded platform runs as a real
 * process serving it (CODESTEP_GRPC_PORT), and the example client (examples/grpc-client, its
 * stubs generated from proto/) runs as its own process for every call: reflection lists the
 * service; a workflow is created, an object enrolled and its history streamed as it happens and
 * read back; a call without a key, another tenant's enrollment, bad fields and a passed deadline
 * are refused with their status codes (and BadRequest details naming the field) and do nothing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { publicV1 } from '@codestep/contracts';
import { statusDetailsOf } from '@codestep/gateway-service';
import { grpc, issueCertificate } from '@codestep/rpc';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const exampleClient = join(root, 'examples/grpc-client/client.ts');
const main = join(root, 'apps/cli/src/main.ts');

const WORKFLOW = {
  name: 'greet over gRPC',
  objectType: 'CONTACT',
  actions: [
    {
      id: 'greet',
      code: 'exports.main = async (event) => { console.log("greeting", event.inputFields.email); return { outputFields: { greeting: "hello " + event.inputFields.email } }; };',
      inputFields: [{ name: 'email', property: 'email' }],
      outputFields: [{ name: 'greeting', type: 'string' }],
    },
  ],
};

interface Run {
  code: number | null;
  lines: Array<Record<string, any>>;
  stderr: string;
}

/** Runs the example client as its own process; its stdout is JSON lines. */
function runClient(env: Record<string, string>, args: string[], onLine?: (line: Record<string, any>) => void): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [exampleClient, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, any>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, i)) as Record<string, any>;
      buffered = buffered.slice(i + 1);
      lines.push(line);
      onLine?.(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
  return { child, done };
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the public gRPC API, used by an example client in another process', () => {
  let dataDir: string;
  let platform: PlatformProcess;
  let env: Record<string, string>;
  let otherKey: string;
  let address: string;

  const client = async (args: string[], extra: Record<string, string> = {}): Promise<Run> => runClient({ ...env, ...extra }, args).done;
  const answer = async (args: string[], extra: Record<string, string> = {}): Promise<Record<string, any>> => {
    const run = await client(args, extra);
    assert.equal(run.code, 0, `${args.join(' ')}: ${JSON.stringify(run.lines)} ${run.stderr}`);
    return run.lines[0]!;
  };
  const refusal = async (args: string[], extra: Record<string, string> = {}): Promise<Record<string, any>> => {
    const run = await client(args, extra);
    assert.equal(run.code, 1, `${args.join(' ')} should be refused: ${JSON.stringify(run.lines)} ${run.stderr}`);
    return run.lines[0]!.error as Record<string, any>;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'codestep-grpc-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, CODESTEP_GRPC_PORT: '0' });
    const banner = /gRPC API: (\S+)\s+mutual TLS: (\S+), (\S+), (\S+) \(/.exec(platform.output());
    assert.ok(banner, `the banner names the gRPC API and its client certificate:\n${platform.output()}`);
    address = banner[1]!;
    env = { CODESTEP_GRPC_ADDRESS: address, CODESTEP_GRPC_CA_FILE: banner[2]!, CODESTEP_GRPC_CERT_FILE: banner[3]!, CODESTEP_GRPC_KEY_FILE: banner[4]!, CODESTEP_API_KEY: platform.apiKey! };
    const other = await cli(['tenants', 'create', 'other', '--json'], { CODESTEP_DATA_DIR: dataDir });
    assert.equal(other.code, 0, other.stderr);
    otherKey = (JSON.parse(other.stdout) as { apiKey: string }).apiKey;
  });

  after(async () => {
    await platform?.stop();
  });

  it('lists the CodestepApi service through server reflection', async () => {
    const out = await answer(['services']);
    assert.ok(out.services.includes('codestep.public.v1.CodestepApi'), JSON.stringify(out));
  });

  it('creates a workflow, enrolls an object, streams its history as it happens and reads it back as the HTTP API shows it', async () => {
    const wf = await answer(['create-workflow', JSON.stringify(WORKFLOW)]);
    assert.match(wf.id, /^wf_/);
    assert.equal(wf.status, 'enabled');
    assert.equal(wf.definition.actions[0].id, 'greet');

    // The stream is opened first and, once the server's headers say it is subscribed, one object
    // is enrolled: its completion is streamed.
    const seen: Array<Record<string, any>> = [];
    let subscribed: () => void = () => {};
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    const stream = runClient(env, ['stream', '--workflow', wf.id, '--until', 'EnrollmentCompleted'], (line) => (line.subscribed === true ? subscribed() : seen.push(line)));
    await Promise.race([ready, stream.done.then((run) => assert.fail(`the stream ended before it was subscribed: ${JSON.stringify(run)}`))]);
    const { enrollmentId } = await answer(['enroll', wf.id, '900', 'email=ada@example.com']);
    const run = await stream.done;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.lines[0], { subscribed: true }, 'the headers come before any event');
    const completed = seen.find((e) => e.type === 'EnrollmentCompleted')!;
    assert.equal(completed.enrollmentId, enrollmentId, 'the completion streamed is of the one enrollment made once the stream was subscribed');
    const ofIt = seen.filter((e) => e.enrollmentId === completed.enrollmentId);
    assert.ok(
      ofIt.some((e) => e.type === 'log' && e.line.message.includes('greeting ada@example.com')),
      `its console line was streamed: ${JSON.stringify(ofIt)}`,
    );

    const got = await answer(['get-enrollment', completed.enrollmentId]);
    const http = (await api(platform.url, platform.apiKey)('GET', `/v1/enrollments/${completed.enrollmentId}`)).body;
    assert.equal(got.status, 'completed');
    assert.equal(got.executions[0].outputFields.greeting, 'hello ada@example.com');
    assert.deepEqual(got.executions[0].details, JSON.parse(JSON.stringify(http.executions[0])), 'the execution is the HTTP API’s view');
    assert.equal(got.object.properties.email, 'ada@example.com');
  });

  it('enrolls a batch as a job, with the bad row refused by its index and the good ones enrolled', async () => {
    const wf = await answer(['create-workflow', JSON.stringify(WORKFLOW)]);
    const job = await answer(['enroll-batch', wf.id, '1', '', '3']);
    assert.equal(job.total, 3);
    assert.equal(job.accepted, 2);
    assert.deepEqual(
      job.errors.map((e: { index: number }) => e.index),
      [1],
    );
    const listed = await waitFor('the batch to be enrolled', async () => {
      const out = await answer(['list-enrollments', wf.id]);
      return out.enrollments.length === 2 ? out : undefined;
    });
    assert.deepEqual(listed.enrollments.map((e: { object: { objectId: string } }) => e.object.objectId).sort(), ['1', '3']);
  });

  it('refuses a call without an API key with UNAUTHENTICATED, and one with an unknown key', async () => {
    const none = await refusal(['list-enrollments', ''], { CODESTEP_API_KEY: '' });
    assert.equal(none.code, 'UNAUTHENTICATED');
    assert.match(none.message, /authorization: Bearer/);
    const unknown = await refusal(['list-enrollments', ''], { CODESTEP_API_KEY: 'csk_not-a-key' });
    assert.equal(unknown.code, 'UNAUTHENTICATED');
  });

  it("answers NOT_FOUND for another tenant's enrollment and workflow, and enrolls nothing in it", async () => {
    const wf = await answer(['create-workflow', JSON.stringify(WORKFLOW)]);
    const mine = await answer(['enroll', wf.id, '77']);
    const read = await refusal(['get-enrollment', mine.enrollmentId], { CODESTEP_API_KEY: otherKey });
    assert.equal(read.code, 'NOT_FOUND');
    const enroll = await refusal(['enroll', wf.id, '78'], { CODESTEP_API_KEY: otherKey });
    assert.equal(enroll.code, 'NOT_FOUND');
    const listed = await answer(['list-enrollments', wf.id]);
    assert.deepEqual(
      listed.enrollments.map((e: { object: { objectId: string } }) => e.object.objectId),
      ['77'],
    );
  });

  it('refuses bad fields with INVALID_ARGUMENT and a google.rpc.BadRequest naming the request field', async () => {
    const wf = await answer(['create-workflow', JSON.stringify(WORKFLOW)]);
    const noObjectId = await refusal(['enroll', wf.id, '']);
    assert.equal(noObjectId.code, 'INVALID_ARGUMENT');
    assert.deepEqual(
      noObjectId.fieldViolations.map((v: { field: string }) => v.field),
      ['object.object_id'],
    );
    const noWorkflow = await refusal(['enroll', '', '1']);
    assert.equal(noWorkflow.fieldViolations[0].field, 'workflow_id');
    const badAction = await refusal(['create-workflow', JSON.stringify({ ...WORKFLOW, actions: [{ ...WORKFLOW.actions[0], code: '' }] })]);
    assert.equal(badAction.code, 'INVALID_ARGUMENT');
    assert.equal(badAction.fieldViolations[0].field, 'definition.actions[0].code');
    const badStatus = await refusal(['set-status', wf.id, 'paused']);
    assert.equal(badStatus.fieldViolations[0].field, 'status');
    assert.equal((await answer(['list-enrollments', wf.id])).enrollments.length, 0, 'nothing was enrolled');
  });

  it('ends a stream at its deadline with DEADLINE_EXCEEDED, and serves the next call', async () => {
    const run = await client(['stream'], { CODESTEP_GRPC_DEADLINE_MS: '400' });
    assert.equal(run.code, 1, `the stream should end with an error: ${JSON.stringify(run.lines)} ${run.stderr}`);
    assert.deepEqual(run.lines[0], { subscribed: true });
    assert.equal(run.lines.at(-1)!.error.code, 'DEADLINE_EXCEEDED');
    assert.ok((await answer(['services'])).services.length > 0);
  });

  it('refuses a certificate of the CA that names no codestep identity with UNAUTHENTICATED, before any handler runs', async () => {
    const tlsDir = join(dataDir, 'tls');
    const ca = { cert: readFileSync(join(tlsDir, 'ca.crt'), 'utf8'), key: readFileSync(join(tlsDir, 'ca.key'), 'utf8') };
    const anonymous = await issueCertificate(ca, { commonName: 'anonymous', uris: [] });
    const creds = grpc.credentials.createSsl(Buffer.from(ca.cert), Buffer.from(anonymous.key), Buffer.from(anonymous.cert), { checkServerIdentity: () => undefined });
    const c = new publicV1.CodestepApiClient(address, creds, { 'grpc.ssl_target_name_override': 'gateway.codestep' });
    try {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${platform.apiKey}`);
      const error = await new Promise<grpc.ServiceError>((resolve) =>
        c.listWorkflows({ includeArchived: false, pageSize: 0, pageToken: '' }, md, { deadline: Date.now() + 10_000 }, (e) => resolve(e!)),
      );
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      assert.equal(statusDetailsOf(error)?.errorInfo?.reason, 'UNAUTHENTICATED');
    } finally {
      c.close();
    }
  });
});
