/**
 * The workflow save path refuses an action whose selected secrets could never run together
 * (more characters than an action may use), with sizes asked from a gRPC Credentials server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { credentialsV1, type WorkflowDefinition, type workflowsV1 } from '@codestep/contracts';
import { SECRETS_POLICY } from '@codestep/core';
import { createClient, implement, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { testPki } from '@codestep/rpc/testing';
import { DEFAULT_LIMIT_BOUNDS } from '@codestep/workflows';
import { apiRoutes, type ApiClients } from './api.routes.ts';
import { createRouter } from './router.ts';

const MAX = SECRETS_POLICY.maxTotalCharsPerAction;

describe('secret selections on workflow save', () => {
  const stored: credentialsV1.SecretInfo[] = [
    { name: 'BIG', updatedAt: 1, valueChars: MAX - 10 },
    { name: 'SMALL', updatedAt: 1, valueChars: 20 },
    { name: 'TINY', updatedAt: 1, valueChars: 10 },
  ];
  const listed: string[] = [];
  const saved: string[] = [];
  let grpcServer: GrpcServer;
  let credentials: PromiseClient<credentialsV1.CredentialsClient>;
  let http: Server;
  let base = '';

  before(async () => {
    const handlers: Record<string, (req: never) => Promise<unknown>> = {};
    for (const name of Object.keys(credentialsV1.CredentialsService)) handlers[name] = async () => Promise.reject(new Error(`unexpected call ${name}`));
    handlers.listSecrets = async (req: credentialsV1.ListSecretsRequest) => {
      listed.push(req.tenantId);
      return { secrets: stored };
    };
    const pki = await testPki();
    grpcServer = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, implement(credentialsV1.CredentialsService, handlers as never)]], { tls: pki.tls('oauth-broker') });
    credentials = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${grpcServer.port}`, { tls: pki.tls('gateway') });
    const save = async (req: { name: string }): Promise<WorkflowDefinition> => {
      saved.push(req.name);
      return { workflowId: 'wf_1', tenantId: 'tenant-a', name: req.name, objectType: 'CONTACT', version: 1, actions: [], createdAt: 0, updatedAt: 0 } as unknown as WorkflowDefinition;
    };
    // Only the workflow writes are reached in these tests; the enrollment service is out of scope.
    const getWorkflowState = async () => ({ workflowId: 'wf_1', status: 'enabled', sequence: 0, changedAt: 0, headVersion: 1 });
    const workflows = { createWorkflow: save, updateWorkflow: save, getWorkflowState } as unknown as PromiseClient<workflowsV1.WorkflowsClient>;
    const clients = { workflows, credentials } as unknown as ApiClients;
    const limitsOf = async () => ({ settings: {}, policy: { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 }, bounds: DEFAULT_LIMIT_BOUNDS });
    const router = createRouter(apiRoutes(clients, limitsOf as never), { authenticate: async (key) => (key === 'key-a' ? 'tenant-a' : undefined) });
    http = createServer((req, res) => void router(req, res));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    credentials.close();
    await grpcServer.stop();
    await new Promise<void>((r) => http.close(() => r()));
  });

  const workflow = (name: string, secrets: string[]) => ({
    name,
    actions: [
      { id: 'first', code: 'exports.main = async () => ({})', secrets: [] },
      { id: 'greet', code: 'exports.main = async () => ({})', secrets },
    ],
  });
  const send = (method: string, path: string, body: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: 'Bearer key-a', 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('saves a workflow whose actions fit within the secrets total, asking the broker for the tenant’s sizes', async () => {
    const res = await send('POST', '/v1/workflows', workflow('fits', ['BIG', 'TINY', 'NOT_STORED_YET']));
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual(listed.at(-1), 'tenant-a');
    assert.ok(saved.includes('fits'));
  });

  it('refuses with a 400 naming the action and the total when the selected secrets can never run together', async () => {
    for (const [method, path] of [
      ['POST', '/v1/workflows'],
      ['PUT', '/v1/workflows/wf_1'],
    ] as const) {
      const res = await send(method, path, workflow(`too-big-${method}`, ['BIG', 'SMALL']));
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(body.error.message, /actions\[1\]\.secrets/);
      assert.match(body.error.message, /action "greet" total 1010 characters/);
      assert.match(body.error.message, new RegExp(`at most ${MAX} characters`));
      assert.match(body.error.message, /select fewer or shorter secrets/);
      assert.equal(saved.includes(`too-big-${method}`), false);
    }
  });

  it('does not ask the broker when no action selects a secret', async () => {
    const before = listed.length;
    const res = await send('POST', '/v1/workflows', workflow('no-secrets', []));
    assert.equal(res.status, 201);
    assert.equal(listed.length, before);
  });
});
