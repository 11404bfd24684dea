/**
 * An executor's liveness heartbeat and a run's hold bound, over a claim store the test answers
 * for: the liveness is renewed three times per lease until stopped and kept trying while the
 * store is away; a run going on past the hold bound has its claim marked unheld once (tried again
 * while the store is away), and a run that ends first never has it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, type Logger } from '@codestep/core';
import { startHoldBound, startLivenessHeartbeat } from './lease.heartbeat.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Heartbeats and unhold marks answered by `answer` (call number → result), counted; warnings collected. */
function fakeClaims(answer: (call: number) => boolean | Error = () => true) {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
  const calls: string[] = [];
  const respond = (call: string) => {
    calls.push(call);
    const a = answer(calls.length);
    if (a instanceof Error) throw a;
    return a;
  };
  const claims = {
    async heartbeat(): Promise<void> {
      respond('beat');
    },
    async unhold(executionId: string, token: string): Promise<boolean> {
      return respond(`${executionId}/${token}`);
    },
  };
  return { claims, calls, warnings, logger };
}

describe('liveness heartbeat', () => {
  it('renews the liveness about three times per lease until stopped, and never after stop resolves', async () => {
    const f = fakeClaims();
    const beat = startLivenessHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 300 });
    await sleep(470);
    await beat.stop();
    const renewed = f.calls.length;
    assert.ok(renewed >= 2 && renewed <= 5, `renewed ${renewed} times in 1.5 leases`);
    await sleep(250);
    assert.equal(f.calls.length, renewed);
    assert.deepEqual(f.warnings, []);
  });

  it('given a store that is away for a while, keeps trying and renews once it answers', async () => {
    const f = fakeClaims((n) => (n <= 2 ? new Error('store down') : true));
    const beat = startLivenessHeartbeat({ claims: f.claims, logger: f.logger, leaseMs: 150 });
    await sleep(330);
    await beat.stop();
    assert.ok(f.calls.length >= 4, `${f.calls.length} renewals tried`);
    assert.equal(f.warnings.length, 2);
    assert.match(f.warnings[0]!, /could not renew this executor's liveness/);
  });

  it('given a store that hangs on each renewal, keeps one renewal at a time and never starts one once stop() is called', async () => {
    const f = fakeClaims();
    let inFlight = 0;
    let most = 0;
    const hanging = {
      async heartbeat() {
        inFlight++;
        most = Math.max(most, inFlight);
        await f.claims.heartbeat();
        await sleep(200);
        inFlight--;
      },
    };
    // A renewal every 10 ms, each taking 200 ms.
    const beat = startLivenessHeartbeat({ claims: hanging, logger: f.logger, leaseMs: 30 });
    await sleep(450);
    const tried = f.calls.length;
    await beat.stop();
    assert.equal(most, 1, 'one renewal at a time');
    assert.ok(tried >= 1, 'renewals were tried');
    assert.equal(f.calls.length, tried, 'none started once stop() was called: it waits for the one in flight only');
  });
});

describe('hold bound', () => {
  it('given a run going on past the hold bound, marks its claim unheld once, so its lease lapses', async () => {
    const f = fakeClaims();
    const bound = startHoldBound({ claims: f.claims, logger: f.logger, leaseMs: 300, holdMs: 150 }, 'ex1', 'x1/t');
    await sleep(100);
    assert.deepEqual(f.calls, [], 'not before the bound');
    await sleep(250);
    await bound.stop();
    assert.deepEqual(f.calls, ['ex1/x1/t']);
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0]!, /past every time limit/);
  });

  it('given a run that ends before the bound, never marks its claim', async () => {
    const f = fakeClaims();
    const bound = startHoldBound({ claims: f.claims, logger: f.logger, leaseMs: 300, holdMs: 100 }, 'ex1', 'x1/t');
    await sleep(20);
    await bound.stop();
    await sleep(200);
    assert.deepEqual(f.calls, []);
  });

  it('given a store that is away at the bound, tries again until the mark is written; a claim no longer the run’s own is warned about', async () => {
    const f = fakeClaims((n) => (n <= 2 ? new Error('store down') : false));
    const bound = startHoldBound({ claims: f.claims, logger: f.logger, leaseMs: 90, holdMs: 20 }, 'ex1', 'x1/t');
    await sleep(300);
    await bound.stop();
    assert.equal(f.calls.length, 3);
    assert.equal(f.warnings.length, 3);
    assert.match(f.warnings[2]!, /no longer its own/);
  });

  it('given a run abandoned (its outcome not recorded) while the store is away, marks its claim unheld at once and tries again until written', async () => {
    const f = fakeClaims((n) => (n <= 2 ? new Error('store down') : true));
    const bound = startHoldBound({ claims: f.claims, logger: f.logger, leaseMs: 90, holdMs: 60_000 }, 'ex1', 'x1/t');
    bound.abandon();
    for (let i = 0; i < 100 && f.calls.length < 3; i++) await sleep(10);
    await bound.stop();
    assert.deepEqual(f.calls, ['ex1/x1/t', 'ex1/x1/t', 'ex1/x1/t'], 'marked long before the hold bound, tried until written');
    assert.match(f.warnings[2]!, /ended without its outcome recorded/);
  });
});
