import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { verifyGrant } from '@codestep/core';
import { Topics, envelope, toRecord } from '@codestep/events';
import { createEnrollmentService, type EnrollmentService } from './enrollment.service.ts';
import { GRANTS, actionDef, createRequest, decode, logger, openFixture, removeDir, tickingClock, type Fixture } from './testing.fixtures.ts';
import { RETRY, succeeded } from './testing.steps.ts';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('enrollment service', () => {
  let f: Fixture;
  let service: EnrollmentService;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    service = createEnrollmentService({ store: f.store, eventLog: f.eventLog, clock: tickingClock(), logger, retryPolicy: RETRY, timerIntervalMs: 20, grants: GRANTS });
    await service.start();
  });
  after(() => dirs.forEach(removeDir));

  it('given a one-action workflow, when an object is enrolled and its action succeeds, then the enrollment completes', async () => {
    const wf = await service.workflows.createWorkflow(createRequest());
    assert.equal((await service.workflows.getWorkflow({ tenantId: 't1', workflowId: wf.workflowId, version: 0 })).version, 1);
    const { enrollmentId } = await service.enrollments.enroll({
      tenantId: 't1',
      workflowId: wf.workflowId,
      object: { objectType: '', objectId: '1', properties: {} },
      requestId: 'r1',
      portalId: 0,
      trigger: undefined,
      limits: undefined,
    });
    const requested = decode(await f.read([Topics.actions])).find((e) => e.event.$case === 'actionRequested');
    await f.eventLog.append([toRecord(succeeded(requested!))]);
    const completed = await eventually('the completion', async () => decode(await f.read([Topics.enrollments])).find((e) => e.event.$case === 'enrollmentCompleted'));
    assert.equal(completed.aggregateId, enrollmentId);
    await service.stop();
  });

  it('given actions selecting secrets and connections, then each action request carries a grant for exactly those, its tenant and execution', async () => {
    const actions = [
      { ...actionDef('a'), secretNames: ['API_KEY'] },
      { ...actionDef('b'), connectionHandles: ['crm'] },
    ];
    const wf = await service.workflows.createWorkflow(createRequest({ actions }));
    await service.enrollments.enroll({
      tenantId: 't1',
      workflowId: wf.workflowId,
      object: { objectType: '', objectId: '1', properties: {} },
      requestId: '',
      portalId: 0,
      trigger: undefined,
      limits: undefined,
    });
    const requests = async () => decode(await f.read([Topics.actions])).filter((e) => e.event.$case === 'actionRequested');
    const [first] = await requests();
    await f.eventLog.append([toRecord(succeeded(first!))]);
    const both = await eventually('the second request', async () => ((await requests()).length === 2 ? await requests() : undefined));
    const grants = both.map((env) => {
      const req = env.event.value as { executionId: string; grant?: string };
      return verifyGrant(GRANTS.key, req.grant, { tenantId: 't1', executionId: req.executionId, now: env.occurredAt });
    });
    assert.deepEqual(
      grants.map((g) => [g.secrets, g.connections, g.expiresAt - both[grants.indexOf(g)]!.occurredAt]),
      [
        [['API_KEY'], [], GRANTS.ttlMs],
        [[], ['crm'], GRANTS.ttlMs],
      ],
    );
    assert.throws(() => verifyGrant(GRANTS.key, (both[0]!.event.value as { grant?: string }).grant, { tenantId: 't2', executionId: grants[0]!.executionId, now: 0 }), /another tenant/);
    await service.stop();
  });

  it('given a workflow published by another replica, when the topic is consumed, then this one serves it', async () => {
    const wf: WorkflowDefinition = { workflowId: 'wf_elsewhere', version: 1, name: 'Elsewhere', objectType: 'CONTACT', actions: [actionDef('a')], createdAt: 5 };
    await f.eventLog.append([toRecord(envelope({ eventId: 'evt_elsewhere', tenantId: 't1', aggregateId: wf.workflowId, occurredAt: 5 }, { $case: 'workflowPublished', value: { workflow: wf } }))]);
    const listed = await eventually('the projected workflow', async () => {
      const { workflows } = await service.workflows.listWorkflows({ tenantId: 't1' });
      return workflows.length ? workflows : undefined;
    });
    assert.equal(listed[0]!.name, 'Elsewhere');
    await service.stop();
  });
});
