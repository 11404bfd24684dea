/**
 * The lease heartbeat of a running execution, over a claim store the test answers for: it renews
 * three times per lease until stopped, stops once the claim is no longer the run's own or at the
 * hold bound, and keeps trying while the store is away.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, type Logger } from '@codestep/core';
import { startLeaseHeartbeat } from './lease.heartbeat.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Renewals answered by `answer` (call number → result), counted; warnings collected. */
function fakeClaims(answer: (call: number) => boolean | Error = () => true) {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
  const calls: string[] = [];
  const claims = {
    async renew(executionId: string, token: string): Promise<boolean> {
      calls.push(`${executionId}/${token}`);
      const a = answer(calls.length);
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { claims, calls, warnings, logger };
}

describe('lease heartbeat', () => {
  it('renews the claim about three times per lease until stopped, and never after stop resolves', async () => {
    const f = fakeClaims();
    const beat = startLeaseHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 300, holdMs: 60_000 }, 'ex1', 'x1/t');
    await sleep(470);
    await beat.stop();
    const renewed = f.calls.length;
    assert.ok(renewed >= 2 && renewed <= 5, `renewed ${renewed} times in 1.5 leases`);
    assert.deepEqual(new Set(f.calls), new Set(['ex1/x1/t']));
    await sleep(250);
    assert.equal(f.calls.length, renewed);
    assert.deepEqual(f.warnings, []);
  });

  it('given a claim that is no longer the run’s own, stops renewing and warns once', async () => {
    const f = fakeClaims(() => false);
    const beat = startLeaseHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 150, holdMs: 60_000 }, 'ex1', 'x1/t');
    await sleep(400);
    await beat.stop();
    assert.equal(f.calls.length, 1);
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0]!, /no longer its own/);
  });

  it('given a run going on past the hold bound, stops renewing so its lease lapses', async () => {
    const f = fakeClaims();
    const beat = startLeaseHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 300, holdMs: 250 }, 'ex1', 'x1/t');
    await sleep(600);
    const renewed = f.calls.length;
    assert.ok(renewed >= 1 && renewed <= 2, `renewed ${renewed} times before the bound (at 100 and 200 ms), none after`);
    await sleep(300);
    assert.equal(f.calls.length, renewed, 'no renewal after the bound');
    await beat.stop();
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0]!, /past every time limit/);
  });

  it('given a store that is away for a while, keeps trying and renews once it answers', async () => {
    const f = fakeClaims((n) => (n <= 2 ? new Error('store down') : true));
    const beat = startLeaseHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 150, holdMs: 60_000 }, 'ex1', 'x1/t');
    await sleep(330);
    await beat.stop();
    assert.ok(f.calls.length >= 4, `${f.calls.length} renewals tried`);
    assert.deepEqual(f.warnings, ['could not renew the claim of a running execution', 'could not renew the claim of a running execution']);
  });
});
