/**
 * `HUBSPOT_ACCESS_TOKEN`: for an enrollment that came from HubSpot, the selected pseudo-secret is
 * the token of the connection installed in that portal, asked for under the request's grant; the
 * other secrets resolve as usual; no token fails the action with "reconnect HubSpot"; for an
 * enrollment from anywhere else it is an ordinary secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequested, HubSpotOrigin, WorkflowDefinition } from '@codestep/contracts';
import { createExecutionPreparer } from './execution.preparer.ts';

const OPERATOR = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };
const WF: WorkflowDefinition = {
  workflowId: 'wf1',
  version: 1,
  name: 'w',
  objectType: 'CONTACT',
  createdAt: 0,
  actions: [
    {
      actionId: 'a',
      name: 'a',
      runtime: 'hubspot',
      code: 'x',
      inputFields: [],
      outputFields: [],
      secretNames: ['HUBSPOT_ACCESS_TOKEN', 'OTHER'],
      timeoutMs: 0,
      memoryMb: 0,
      connectionHandles: [],
      runtimeVersion: 'node20',
    },
  ],
};
const HUBSPOT: HubSpotOrigin = {
  portalId: 62515,
  connectionHandle: 'hubspot',
  callbackId: 'ap-1',
  actionDefinitionId: '77',
  actionDefinitionVersion: 2,
  source: 'WORKFLOWS',
  workflowId: '9',
  subscriptionType: '',
  eventId: '',
};

function request(hubspot?: HubSpotOrigin): ActionRequested {
  const context = {
    enrollmentId: 'e',
    workflowId: 'wf1',
    workflowVersion: 1,
    stepIndex: 0,
    actionId: 'a',
    attempt: 1,
    object: { objectType: 'CONTACT', objectId: '1001', properties: {} },
    priorOutputs: {},
    firstAttemptAt: 0,
    trigger: undefined,
    limits: undefined,
    hubspot,
    step: undefined,
  };
  return { executionId: 'ex1', callbackId: 'cb_x', inputFields: {}, limits: undefined, context, grant: 'g' };
}

describe('the HubSpot token of an enrollment from HubSpot', () => {
  const asked: unknown[] = [];
  const prepare = (token: { token?: string; error?: string }) =>
    createExecutionPreparer({
      getWorkflow: async () => WF,
      resolveSecrets: async (r) => (asked.push(r.names), { values: Object.fromEntries(r.names.map((n) => [n, `secret-${n}`])), missing: [] }),
      getOAuthToken: async (r) => (asked.push([r.handle, r.declaredHandles, r.grant]), token),
      limits: OPERATOR,
    });

  it('gives the portal’s token as HUBSPOT_ACCESS_TOKEN, HubSpot’s origin and callback id, and the other secrets as usual', async () => {
    asked.length = 0;
    const out = await prepare({ token: 'portal-token' })('t1', request(HUBSPOT));
    assert.ok(!('failure' in out));
    assert.deepEqual(out.request.secrets, { HUBSPOT_ACCESS_TOKEN: 'portal-token', OTHER: 'secret-OTHER' });
    assert.deepEqual(asked, [['hubspot', ['hubspot'], 'g'], ['OTHER']]);
    assert.ok(out.request.input.runtime === 'hubspot');
    assert.deepEqual(out.request.input.event.origin, { portalId: 62515, actionDefinitionId: 77, actionDefinitionVersion: 2 });
    assert.equal(out.request.input.event.callbackId, 'ap-1');
    assert.equal(out.request.input.event.object.objectId, 1001);
  });

  it('fails the action with "reconnect HubSpot" when the connection has no token', async () => {
    const out = await prepare({ error: 'the connection "hubspot" needs to be authorized again' })('t1', request(HUBSPOT));
    assert.ok('failure' in out);
    assert.equal(out.failure.error?.code, 'NEEDS_REAUTH');
    assert.match(out.failure.error?.message ?? '', /reconnect HubSpot .*needs to be authorized again/);
  });

  it('resolves HUBSPOT_ACCESS_TOKEN as an ordinary secret for an enrollment from elsewhere', async () => {
    asked.length = 0;
    const out = await prepare({ token: 'never' })('t1', request());
    assert.ok(!('failure' in out));
    assert.deepEqual(out.request.secrets, { HUBSPOT_ACCESS_TOKEN: 'secret-HUBSPOT_ACCESS_TOKEN', OTHER: 'secret-OTHER' });
    assert.deepEqual(asked, [['HUBSPOT_ACCESS_TOKEN', 'OTHER']]);
  });
});
