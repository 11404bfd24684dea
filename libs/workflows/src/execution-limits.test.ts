import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope } from '@codestep/events';
import { DEFAULT_RETRY_POLICY, onActionResult, onRetryDue, startEnrollment } from './enrollment.decider.ts';
import {
  DEFAULT_OPERATOR_LIMITS,
  actionBounds,
  boundPolicy,
  effectiveLimits,
  operatorLimitProblems,
  parseTenantLimits,
  requestLimits,
  resolveLimitPolicy,
  type OperatorLimits,
} from './execution-limits.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const op: OperatorLimits = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };
const ENV = {
  defaultTimeoutMs: 'CODESTEP_ACTION_TIMEOUT_MS',
  defaultMemoryMb: 'CODESTEP_ACTION_MEMORY_MB',
  maxTimeoutMs: 'CODESTEP_ACTION_MAX_TIMEOUT_MS',
  maxMemoryMb: 'CODESTEP_ACTION_MAX_MEMORY_MB',
};

describe('execution limits', () => {
  describe('a request in the process that runs it', () => {
    it('runs with the limits the request states, resolved when the enrollment started', () => {
      assert.deepEqual(requestLimits({ timeoutMs: 300, memoryMb: 64 }, { timeoutMs: 5_000, memoryMb: 256 }, op), { timeoutMs: 300, memoryMb: 64 });
    });

    it("keeps stated limits within this process's operator bounds", () => {
      const lowered = { ...op, maxTimeoutMs: 1_000, maxMemoryMb: 64 };
      assert.deepEqual(requestLimits({ timeoutMs: 30_000, memoryMb: 256 }, { timeoutMs: 0, memoryMb: 0 }, lowered), { timeoutMs: 1_000, memoryMb: 64 });
    });

    it("given a request that states none, takes the action's own values, else the operator's defaults", () => {
      assert.deepEqual(requestLimits(undefined, { timeoutMs: 2_000, memoryMb: 0 }, op), { timeoutMs: 2_000, memoryMb: 128 });
    });
  });

  describe('resolution: the action, else the tenant default, else the operator default; within the ceilings', () => {
    it('given nothing set anywhere, an action runs with the operator defaults (HubSpot: 20 s, 128 MB)', () => {
      const policy = resolveLimitPolicy({}, DEFAULT_OPERATOR_LIMITS);
      assert.deepEqual(effectiveLimits({ timeoutMs: 0, memoryMb: 0 }, policy), { timeoutMs: 20_000, memoryMb: 128 });
    });

    it('given a tenant default, an action that sets none runs with it', () => {
      const policy = resolveLimitPolicy({ defaultTimeoutMs: 300 }, op);
      assert.deepEqual(effectiveLimits({ timeoutMs: 0, memoryMb: 0 }, policy), { timeoutMs: 300, memoryMb: 128 });
    });

    it("given an action's own limits within the ceiling, they win over the tenant default", () => {
      const policy = resolveLimitPolicy({ defaultTimeoutMs: 300, maxTimeoutMs: 5_000 }, op);
      assert.deepEqual(effectiveLimits({ timeoutMs: 4_000, memoryMb: 256 }, policy), { timeoutMs: 4_000, memoryMb: 256 });
    });

    it('given a ceiling lowered after the workflow was saved, the action is clamped to it', () => {
      const policy = resolveLimitPolicy({ maxTimeoutMs: 1_000, maxMemoryMb: 64 }, op);
      assert.deepEqual(effectiveLimits({ timeoutMs: 30_000, memoryMb: 256 }, policy), { timeoutMs: 1_000, memoryMb: 64 });
    });

    it('given only a tenant ceiling below the operator default, the default comes down to the ceiling', () => {
      assert.deepEqual(resolveLimitPolicy({ maxTimeoutMs: 5_000 }, op), { defaultTimeoutMs: 5_000, defaultMemoryMb: 128, maxTimeoutMs: 5_000, maxMemoryMb: 512 });
    });

    it('given tenant settings above a bound the operator lowered since, the operator bound wins', () => {
      const lowered = { ...op, maxTimeoutMs: 10_000 };
      assert.deepEqual(resolveLimitPolicy({ defaultTimeoutMs: 30_000, maxTimeoutMs: 40_000 }, lowered).maxTimeoutMs, 10_000);
      assert.deepEqual(resolveLimitPolicy({ defaultTimeoutMs: 30_000, maxTimeoutMs: 40_000 }, lowered).defaultTimeoutMs, 10_000);
    });

    it('given a policy from a peer, unset fields take the operator values and nothing exceeds the operator bounds', () => {
      assert.deepEqual(boundPolicy(undefined, op), { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 });
      assert.deepEqual(boundPolicy({ defaultTimeoutMs: 300, defaultMemoryMb: 0, maxTimeoutMs: 900_000, maxMemoryMb: 0 }, op), {
        defaultTimeoutMs: 300,
        defaultMemoryMb: 128,
        maxTimeoutMs: 60_000,
        maxMemoryMb: 512,
      });
    });
  });

  describe("a tenant's settings", () => {
    it('given values within the operator bounds, keeps them; null means the operator value', () => {
      assert.deepEqual(parseTenantLimits({ defaultTimeoutMs: 300, maxTimeoutMs: 30_000, defaultMemoryMb: null }, op), { defaultTimeoutMs: 300, maxTimeoutMs: 30_000 });
    });

    it('given a value above the operator bound, refuses it naming the field and the bound', () => {
      assert.throws(
        () => parseTenantLimits({ maxTimeoutMs: 120_000 }, op),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'INVALID_ARGUMENT');
          assert.equal(e.message, "maxTimeoutMs: 120000 ms is above the operator's bound of 60000 ms; set at most 60000");
          return true;
        },
      );
      assert.throws(() => parseTenantLimits({ defaultMemoryMb: 1024 }, op), /defaultMemoryMb: 1024 MB is above the operator's bound of 512 MB/);
    });

    it('given a value below the minimum or not a whole number, refuses it with the accepted range', () => {
      assert.throws(() => parseTenantLimits({ defaultTimeoutMs: 10 }, op), /defaultTimeoutMs: must be a whole number of ms from 100 to 60000/);
      assert.throws(() => parseTenantLimits({ defaultMemoryMb: '128' }, op), /defaultMemoryMb: must be a whole number of MB from 16 to 512/);
      assert.throws(() => parseTenantLimits({ maxTimeoutMs: 1.5e3 + 0.5 }, op), /maxTimeoutMs: must be a whole number/);
    });

    it('given a default above its own ceiling, refuses it', () => {
      assert.throws(() => parseTenantLimits({ defaultTimeoutMs: 30_000, maxTimeoutMs: 10_000 }, op), /defaultTimeoutMs: 30000 ms is above this tenant's maxTimeoutMs of 10000 ms/);
    });

    it('given an unknown field or a non-object, refuses it saying what to send', () => {
      assert.throws(() => parseTenantLimits({ timeoutMs: 300 }, op), /timeoutMs: unknown field; the limits are defaultTimeoutMs, defaultMemoryMb, maxTimeoutMs, maxMemoryMb/);
      assert.throws(() => parseTenantLimits([], op), /body must be a JSON object/);
    });
  });

  describe("the operator's configuration", () => {
    it('given defaults within the bounds, has no problems', () => {
      assert.deepEqual(operatorLimitProblems(op, ENV), []);
    });

    it('given a default above its bound, names both variables', () => {
      const problems = operatorLimitProblems({ ...op, defaultTimeoutMs: 90_000, defaultMemoryMb: 1024 }, ENV);
      assert.equal(problems.length, 2);
      assert.match(problems[0]!, /CODESTEP_ACTION_TIMEOUT_MS=90000 is above CODESTEP_ACTION_MAX_TIMEOUT_MS=60000/);
      assert.match(problems[1]!, /CODESTEP_ACTION_MEMORY_MB=1024 is above CODESTEP_ACTION_MAX_MEMORY_MB=512/);
    });
  });

  describe('an action asking for more than allowed, when its workflow is saved', () => {
    const body = (timeoutMs: number) => ({ name: 'x', actions: [{ id: 'a', code: 'exports.main = async () => ({})', timeoutMs }] });

    it("given the tenant's ceiling, is refused naming the field and the tenant's ceiling", () => {
      const bounds = actionBounds(resolveLimitPolicy({ maxTimeoutMs: 5_000 }, op), op);
      assert.throws(
        () => parseWorkflowInput(body(6_000), bounds),
        (e: Error) => {
          assert.equal(
            e.message,
            "actions[0].timeoutMs: 6000 ms is above the limit of 5000 ms (this tenant's ceiling maxTimeoutMs, see GET /v1/tenant/limits); ask for at most 5000, or leave it out for the default",
          );
          return true;
        },
      );
      assert.equal(parseWorkflowInput(body(5_000), bounds).actions[0]!.timeoutMs, 5_000);
    });

    it("given no tenant ceiling, is refused naming the operator's bound", () => {
      const bounds = actionBounds(resolveLimitPolicy({}, op), op);
      assert.throws(() => parseWorkflowInput(body(61_000), bounds), /actions\[0\]\.timeoutMs: 61000 ms is above the limit of 60000 ms \(the operator's bound\)/);
    });
  });

  describe('the decider', () => {
    const input = parseWorkflowInput({
      name: 'two',
      actions: [
        { id: 'own', code: 'exports.main = async () => ({})', timeoutMs: 2_000, memoryMb: 64 },
        { id: 'dflt', code: 'exports.main = async () => ({})' },
      ],
    });
    const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
    const object = { objectType: 'CONTACT', objectId: '1', properties: {} };
    const policy = resolveLimitPolicy({ defaultTimeoutMs: 300 }, op);

    it("given an enrollment with the tenant's policy, every request states the limits it runs with, retries included", () => {
      const [, first] = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object, portalId: 0, limits: policy }, 1000);
      assert.equal(first?.event.$case, 'actionRequested');
      if (first?.event.$case !== 'actionRequested') return;
      assert.deepEqual(first.event.value.limits, { timeoutMs: 2_000, memoryMb: 64 });
      const ok = envelope(
        { eventId: 'ok', tenantId: 't1', aggregateId: first.event.value.executionId, occurredAt: 2000 },
        {
          $case: 'actionSucceeded',
          value: {
            executionId: first.event.value.executionId,
            context: first.event.value.context,
            outputFields: {},
            durationMs: 1,
            returnValueJson: '',
            nextSteps: [],
            waits: [],
            httpResponseJson: '',
          },
        },
      );
      const [second] = onActionResult(wf, 't1', ok, DEFAULT_RETRY_POLICY, 3000);
      if (second?.event.$case !== 'actionRequested') return assert.fail('expected the second request');
      assert.deepEqual(second.event.value.limits, { timeoutMs: 300, memoryMb: 128 });
      const failed = envelope(
        { eventId: 'f', tenantId: 't1', aggregateId: second.event.value.executionId, occurredAt: 4000 },
        {
          $case: 'actionFailed',
          value: {
            executionId: second.event.value.executionId,
            context: second.event.value.context,
            error: { code: 'RATE_LIMITED', message: '429', retryable: true, retryAfterMs: 0 },
            durationMs: 1,
            continueEnrollment: false,
            outputFields: {},
          },
        },
      );
      const [scheduled] = onActionResult(wf, 't1', failed, DEFAULT_RETRY_POLICY, 5000);
      const [retry] = onRetryDue(wf, 't1', scheduled!, 70_000);
      if (retry?.event.$case !== 'actionRequested') return assert.fail('expected the retry request');
      assert.deepEqual(retry.event.value.limits, { timeoutMs: 300, memoryMb: 128 });
    });

    it('given an enrollment without a policy (events written before limits were carried), requests leave the limits to the executor', () => {
      const [, first] = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr2', object, portalId: 0 }, 1000);
      if (first?.event.$case !== 'actionRequested') return assert.fail('expected a request');
      assert.equal(first.event.value.limits, undefined);
    });
  });
});
