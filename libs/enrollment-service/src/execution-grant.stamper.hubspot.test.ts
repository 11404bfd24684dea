/**
 * The grant of an action that selects HUBSPOT_ACCESS_TOKEN in an enrollment from HubSpot also
 * names the connection installed in that portal (so the broker hands its token to the executor);
 * nothing is added for other enrollments or actions that do not select it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { HubSpotOrigin, WorkflowDefinition } from '@codestep/contracts';
import { verifyGrant } from '@codestep/core';
import { startEnrollment } from '@codestep/workflows';
import { createGrantStamper } from './execution-grant.stamper.ts';

const key = randomBytes(32);
const wf = (secretNames: string[]): WorkflowDefinition => ({
  workflowId: 'wf1',
  version: 1,
  name: 'w',
  objectType: 'CONTACT',
  createdAt: 0,
  actions: [
    { actionId: 'a', name: 'a', runtime: 'hubspot', code: 'x', inputFields: [], outputFields: [], secretNames, timeoutMs: 0, memoryMb: 0, connectionHandles: ['crm'], runtimeVersion: 'node20' },
  ],
});
const HUBSPOT: HubSpotOrigin = {
  portalId: 62515,
  connectionHandle: 'hubspot',
  callbackId: 'ap-1',
  actionDefinitionId: '',
  actionDefinitionVersion: 0,
  source: 'WORKFLOWS',
  workflowId: '',
  subscriptionType: '',
  eventId: '',
};

function connectionsGranted(secretNames: string[], hubspot?: HubSpotOrigin): string[] {
  const w = wf(secretNames);
  const now = Date.now();
  const envs = createGrantStamper({ key, ttlMs: 60_000 })(
    w,
    startEnrollment(w, { tenantId: 't1', enrollmentId: 'enr1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 62515, hubspot }, now),
  );
  const req = envs.find((e) => e.event.$case === 'actionRequested')!;
  assert.ok(req.event.$case === 'actionRequested');
  assert.equal(req.event.value.context?.hubspot?.callbackId, hubspot?.callbackId);
  return verifyGrant(key, req.event.value.grant, { tenantId: 't1', executionId: req.event.value.executionId, now }).connections;
}

describe('execution grants of HubSpot enrollments', () => {
  it('adds the portal’s connection when the action selects HUBSPOT_ACCESS_TOKEN', () => {
    assert.deepEqual(connectionsGranted(['HUBSPOT_ACCESS_TOKEN'], HUBSPOT), ['crm', 'hubspot']);
  });
  it('adds nothing for an action that does not select it, or an enrollment from elsewhere', () => {
    assert.deepEqual(connectionsGranted(['OTHER'], HUBSPOT), ['crm']);
    assert.deepEqual(connectionsGranted(['HUBSPOT_ACCESS_TOKEN']), ['crm']);
  });
});
