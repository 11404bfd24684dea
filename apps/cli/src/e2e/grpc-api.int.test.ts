/**
 * The public gRPC API in distributed mode: the gateway, its own process beside the other apps on
 * real Kafka and FerretDB, serves it on CODESTEP_GRPC_PORT, and the example client
 * (examples/grpc-client) lists it through reflection, creates a workflow, enrolls an object and
 * reads the enrollment completed. Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ensureClientCertificate } from '@codestep/platform';
import { dropNamespaceDatabases, freeLoopbackPort, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const exampleClient = join(dirname(fileURLToPath(import.meta.url)), '../../../../examples/grpc-client/client.ts');

function runClient(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: Record<string, any>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [exampleClient, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: JSON.parse(stdout.split('\n')[0] || '{}') as Record<string, any>, stderr }));
  });
}

describe('the public gRPC API in distributed mode', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  const namespace = `codestep_grpc_${randomBytes(4).toString('hex')}`;
  let platform: DistributedPlatform;
  let env: Record<string, string>;

  before(async () => {
    const port = await freeLoopbackPort();
    platform = await startDistributedPlatform({ brokers: brokers!, mongoUri: mongoUri!, namespace, executors: 1, appEnv: { gateway: { CODESTEP_GRPC_PORT: String(port) } } });
    const cert = await ensureClientCertificate(platform.env.CODESTEP_TLS_DIR!, 'billing');
    env = { CODESTEP_GRPC_ADDRESS: `127.0.0.1:${port}`, CODESTEP_GRPC_CA_FILE: cert.ca, CODESTEP_GRPC_CERT_FILE: cert.cert, CODESTEP_GRPC_KEY_FILE: cert.key, CODESTEP_API_KEY: platform.apiKey };
  });

  after(async () => {
    await platform?.stop();
    await dropNamespaceDatabases(mongoUri!, namespace);
  });

  it("is served by the gateway's own process: reflection, a workflow, an enrollment read back completed", async () => {
    const listed = await runClient(env, ['services']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.out.services.includes('codestep.public.v1.CodestepApi'));
    const wf = await runClient(env, [
      'create-workflow',
      JSON.stringify({ name: 'distributed', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: { ok: true } });', outputFields: [{ name: 'ok', type: 'boolean' }] }] }),
    ]);
    assert.equal(wf.code, 0, JSON.stringify(wf.out));
    const enrolled = await runClient(env, ['enroll', wf.out.id, '42']);
    assert.equal(enrolled.code, 0, JSON.stringify(enrolled.out));
    const done = await waitFor(
      'the enrollment to complete',
      async () => {
        const got = await runClient(env, ['get-enrollment', enrolled.out.enrollmentId]);
        return got.code === 0 && got.out.status === 'completed' ? got.out : undefined;
      },
      120_000,
    );
    assert.equal(done.executions[0].outputFields.ok, true);
  });
});
