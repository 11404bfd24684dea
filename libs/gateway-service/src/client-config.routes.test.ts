/**
 * `GET /v1/config` over a real gateway: the operator's trace URL template for a signed-in client
 * (null when none), and 401 without a key like every tenant route.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { clientConfigRoutes, traceTemplateProblem } from './client-config.routes.ts';
import { startGateway } from './gateway.ts';
import type { Tenants } from './tenants.ts';

const tenants = { authenticate: async (key: string) => (key === 'csk_good' ? 'tnt_1' : undefined) } as unknown as Tenants;

async function configOf(traceUrlTemplate: string | undefined, key: string): Promise<{ status: number; body: unknown }> {
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: clientConfigRoutes({ traceUrlTemplate }), tenants, logger: silentLogger });
  try {
    const res = await fetch(`${gateway.url}/v1/config`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.json() };
  } finally {
    await gateway.close();
  }
}

describe('GET /v1/config', () => {
  it("answers the operator's trace URL template, or null when none is configured", async () => {
    assert.deepEqual(await configOf('http://localhost:16686/trace/{traceId}', 'csk_good'), { status: 200, body: { traceUrlTemplate: 'http://localhost:16686/trace/{traceId}' } });
    assert.deepEqual(await configOf(undefined, 'csk_good'), { status: 200, body: { traceUrlTemplate: null } });
  });

  it('is refused without a valid key', async () => {
    assert.equal((await configOf('http://x/{traceId}', 'csk_bad')).status, 401);
  });
});

describe('a trace URL template', () => {
  it('must make an http(s) URL with the trace id in it', () => {
    assert.equal(traceTemplateProblem('https://grafana.example/explore?trace={traceId}'), undefined);
    assert.match(traceTemplateProblem('http://jaeger/trace/') ?? '', /must contain \{traceId\}/);
    assert.match(traceTemplateProblem('file:///{traceId}') ?? '', /must be an http\(s\) URL/);
    assert.match(traceTemplateProblem('{traceId}') ?? '', /must be an http\(s\) URL/);
  });
});
