/**
 * Schedule triggers end to end, on the embedded platform run as a real process: a bad trigger is
 * a 400 naming the field; a JsWorkflows workflow (missed: runOnce) and a HubSpot one (missed:
 * skip) on `every: "20 sec"` fire each tick once, with the tick as their data; the platform is
 * stopped across two ticks and started again just after the second: neither fires a tick twice,
 * the runOnce one runs the missed ticks once (the latest, counting the others), the skip one skips
 * them, and both fire every tick after on time. A disabled workflow shows no next fire times and
 * fires nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const EVERY_MS = 20_000;
const ENV = { CODESTEP_SCHEDULE_MIN_INTERVAL_MS: '1000', CODESTEP_SCHEDULE_GRACE_MS: '4000' };
const JSW = `class Workflow { async start(data) { return { tick: data.scheduledAt, missed: data.missedTicks }; } }`;
const HUBSPOT = `exports.main = async (event) => ({ outputFields: { tick: event.inputFields.tick } });`;

type Call = ReturnType<typeof api>;

/** The workflow's enrollments' ticks (their object ids), oldest first, with the missed count each carried. */
async function ticksOf(call: Call, workflowId: string): Promise<Array<{ tick: string; missed: string; status: string }>> {
  const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.enrollments as Array<{ object: { objectId: string; properties: Record<string, string> }; status: string }>)
    .map((e) => ({ tick: e.object.objectId, missed: e.object.properties.missedTicks ?? '', status: e.status }))
    .sort((a, b) => a.tick.localeCompare(b.tick));
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

describe('schedule triggers (embedded)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'codestep-schedule-'));
  let platform: PlatformProcess | undefined;
  after(async () => {
    await platform?.stop();
  });

  it('refuses a bad cron, time zone or interval with 400 naming the field', async () => {
    platform = await startPlatform({ ...ENV, CODESTEP_DATA_DIR: dataDir });
    const call = api(platform.url, platform.apiKey);
    const body = (trigger: unknown) => ({ name: 'bad', actions: [{ id: 'a', runtime: 'jsworkflows', code: JSW }], trigger });
    for (const [trigger, field] of [
      [{ type: 'schedule', cron: '0 25 * * *' }, 'trigger.cron'],
      [{ type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Pariss' }, 'trigger.timezone'],
      [{ type: 'schedule', every: 'fortnightly' }, 'trigger.every'],
      [{ type: 'schedule', every: '0.5 sec' }, 'trigger.every'],
      [{ type: 'schedule', every: '1 min', missed: 'all' }, 'trigger.missed'],
    ] as const) {
      const r = await call('POST', '/v1/workflows', body(trigger));
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.ok(r.body.error.message.startsWith(`${field}: `), r.body.error.message);
    }
  });

  it('fires each tick once, runs or skips ticks missed while stopped, and never fires a tick twice across a restart', { timeout: 240_000 }, async () => {
    const key = platform!.apiKey;
    let call = api(platform!.url, key);
    const create = async (body: Record<string, unknown>) => {
      const r = await call('POST', '/v1/workflows', body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: string; trigger: unknown };
    };
    const once = await create({ name: 'run once', objectType: 'SCHEDULE', actions: [{ id: 'tick', runtime: 'jsworkflows', code: JSW }], trigger: { type: 'schedule', every: '20 sec' } });
    const skip = await create({
      name: 'skip',
      actions: [{ id: 'tick', code: HUBSPOT, inputFields: [{ name: 'tick', property: 'scheduledAt' }], outputFields: [{ name: 'tick', type: 'string' }] }],
      trigger: { type: 'schedule', every: '20 sec', missed: 'skip' },
    });
    assert.deepEqual(once.trigger, { type: 'schedule', every: '20 sec', missed: 'runOnce' });

    const schedule = await call('GET', `/v1/workflows/${once.id}/schedule`);
    assert.equal(schedule.status, 200, JSON.stringify(schedule.body));
    const next = (schedule.body.nextFireTimes as string[]).map(Date.parse);
    assert.equal(next.length, 5);
    assert.ok(next.every((t, i) => t % EVERY_MS === 0 && (i === 0 || t - next[i - 1]! === EVERY_MS)));
    const t1 = next[0]!;

    // T1 fires once for both, on time.
    const fired = async (id: string, n: number) =>
      waitFor(`${n} ticks of ${id}`, async () => ((await ticksOf(call, id)).filter((x) => x.status === 'completed').length >= n ? true : undefined), 60_000);
    await Promise.all([fired(once.id, 1), fired(skip.id, 1)]);
    assert.ok(Date.now() < t1 + EVERY_MS - 1000, 'T1 took too long: the platform must stop before T2');
    const first = await ticksOf(call, once.id);
    assert.deepEqual(
      first.map((x) => [x.tick, x.missed]),
      [[new Date(t1).toISOString(), '0']],
    );
    const listed = await call('GET', `/v1/enrollments?workflowId=${once.id}`);
    const enrollment = await call('GET', `/v1/enrollments/${listed.body.enrollments[0].id}`);
    assert.deepEqual(enrollment.body.executions.at(-1)?.returnValue, { tick: new Date(t1).toISOString(), missed: 0 }, JSON.stringify(enrollment.body));

    // Stopped across T2 and T3, started 5 s after T3 (later than the 4 s grace): at the first look
    // T2 and T3 (and T4 too, if the start took long) are late. How long the start takes is the
    // machine's business, so what follows holds whenever the platform is up again.
    assert.ok(Date.now() < t1 + EVERY_MS - 1000, 'the platform must stop before T2');
    await platform!.stop();
    const t2 = t1 + EVERY_MS;
    await sleepUntil(t2 + EVERY_MS + 5000);
    const restartAt = Date.now();
    platform = await startPlatform({ ...ENV, CODESTEP_DATA_DIR: dataDir });
    const upAt = Date.now();
    console.log(`restarted in ${upAt - restartAt} ms`);
    call = api(platform.url, key);
    await sleepUntil(upAt + 2 * EVERY_MS + 3000);

    // runOnce: T1, then one catch-up tick C (T3 or later) counting the ticks from T2 before it, then every tick after C.
    const ran = (await ticksOf(call, once.id)).map((x) => ({ t: Date.parse(x.tick), missed: Number(x.missed) }));
    assert.equal(new Set(ran.map((x) => x.t)).size, ran.length, 'a tick fired twice');
    assert.deepEqual(ran[0], { t: t1, missed: 0 });
    const catchUp = ran[1]!;
    assert.ok(catchUp.t >= t2 + EVERY_MS && catchUp.t <= upAt, JSON.stringify(ran));
    assert.equal(catchUp.missed, (catchUp.t - t2) / EVERY_MS, JSON.stringify(ran));
    ran.slice(2).forEach((x, i) => assert.deepEqual(x, { t: catchUp.t + (i + 1) * EVERY_MS, missed: 0 }, JSON.stringify(ran)));
    assert.ok(ran.at(-1)!.t > upAt, `no tick after the restart: ${JSON.stringify(ran)}`);

    // skip: T1, then nothing until the first tick found on time, then every tick.
    const kept = (await ticksOf(call, skip.id)).map((x) => ({ t: Date.parse(x.tick), missed: Number(x.missed) }));
    assert.equal(new Set(kept.map((x) => x.t)).size, kept.length, 'a tick fired twice');
    assert.deepEqual(kept[0], { t: t1, missed: 0 });
    assert.ok(kept[1]!.t >= t2 + 2 * EVERY_MS && kept.slice(1).every((x, i) => x.missed === 0 && x.t === kept[1]!.t + i * EVERY_MS), JSON.stringify(kept));
    assert.ok(kept.at(-1)!.t > upAt, `no tick after the restart: ${JSON.stringify(kept)}`);
    const skipped = await call('GET', `/v1/workflows/${skip.id}/schedule`);
    assert.equal(skipped.body.lastTick.outcome, 'fired', JSON.stringify(skipped.body));

    // Disabled: not armed, no fire times, and no tick fires.
    assert.equal((await call('POST', `/v1/workflows/${once.id}/disable`)).status, 200);
    const disabled = await call('GET', `/v1/workflows/${once.id}/schedule`);
    assert.deepEqual([disabled.body.armed, disabled.body.nextFireTimes, disabled.body.status], [false, [], 'disabled']);
    await new Promise((r) => setTimeout(r, 3000)); // a tick enrolled just before the disable reaches the history
    const count = (await ticksOf(call, once.id)).length;
    await new Promise((r) => setTimeout(r, EVERY_MS + 2500));
    assert.equal((await ticksOf(call, once.id)).length, count);
  });
});
