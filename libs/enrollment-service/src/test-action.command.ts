/**
 * Test one action of a saved workflow version (HubSpot's "Test action" button): the request is
 * appended like an enrollment's (stamped with a grant for the action's secrets and connections),
 * marked `test` so that no enrollment exists and nothing follows its result. With a request id it
 * is idempotent: the test id, the execution id and the event id all derive from it, so a retry
 * appends the same event (dropped downstream as a duplicate) and answers the same execution.
 */
import type { enrollmentsV1 } from '@codestep/contracts';
import { deterministicId, newId, type Clock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { toRecord } from '@codestep/events';
import { currentTraceparent } from '@codestep/telemetry';
import { boundPolicy, testActionRequested, type OperatorLimits } from '@codestep/workflows';
import type { GrantStamper } from './execution-grant.stamper.ts';
import type { WorkflowRepository } from './workflow.repository.ts';

export interface TestActionDeps {
  eventLog: EventLog;
  clock: Clock;
  repository: WorkflowRepository;
  limits: OperatorLimits;
  stampGrants: GrantStamper;
}

export type TestActionCommand = (req: enrollmentsV1.TestActionRequest) => Promise<enrollmentsV1.TestActionResponse>;

export function createTestActionCommand(deps: TestActionDeps): TestActionCommand {
  return async (req) => {
    const wf = await deps.repository.load(req.tenantId, req.workflowId, req.version);
    const testId = req.requestId ? deterministicId('tst', req.tenantId, req.requestId) : newId('tst');
    const object = { objectType: req.object?.objectType || wf.objectType, objectId: req.object?.objectId || 'test', properties: req.object?.properties ?? {} };
    const requested = testActionRequested(
      wf,
      {
        tenantId: req.tenantId,
        testId,
        actionId: req.actionId,
        object,
        inputFields: req.inputFields,
        limits: boundPolicy(req.limits, deps.limits),
        trigger: req.trigger,
        dryRun: req.dryRun,
        draft: req.draft ? { ...req.draft, actionId: req.actionId } : undefined,
      },
      deps.clock(),
    );
    const [stamped] = deps.stampGrants(wf, [requested]);
    await deps.eventLog.append([toRecord(stamped!, currentTraceparent())]);
    return { executionId: requested.event.$case === 'actionRequested' ? requested.event.value.executionId : '', workflowVersion: wf.version, testId };
  };
}
