/**
 * The JsWorkflows crash scenario shared by the embedded (`jsworkflows-crash.e2e.test.ts`) and the
 * distributed (`jsworkflows-crash.int.test.ts`) tests: `n` runs wait (half on a durable timer of
 * `scheduleNextStep`, half on an `api.waitForEvent` resumed by a POST after the crash) while one
 * run's fan-out of `n` branches is in flight; the test kills what it kills in between, then
 * {@link finishAfterCrash} resumes the waits, waits for every run to complete and checks from the
 * history that every step of every branch succeeded exactly once. Each step also asks
 * `api.dedupe` about itself: a first attempt that finds its own key was run before (a step run
 * twice without a retry being decided) fails the check.
 */
import assert from 'node:assert/strict';
import type { api } from './platform-process.ts';
import { waitFor } from './platform-process.ts';

type Call = ReturnType<typeof api>;

export const WAITER = `class Workflow {
  async start(data, headers, api) {
    const p = data.object.properties;
    if (p.kind === 'timer') {
      await api.scheduleNextStep({ delay: Number(p.delay), action: 'later', payload: { run: p.run } });
      return { run: p.run };
    }
    const { resumeUrl } = await api.waitForEvent({ action: 'resumed', payload: { run: p.run }, timeout: '1 day' });
    return { resumeUrl };
  }
  async later({ run }, headers, api) {
    return { again: (await api.dedupe('later-' + run)).locked };
  }
  async resumed(data, headers, api) {
    return { again: (await api.dedupe('resumed-' + data.run)).locked, by: data.by };
  }
}`;

export const FAN_OUT = `class Workflow {
  async start(data, headers, api) {
    const n = Number(data.object.properties.n);
    for (let i = 0; i < n; i++) await api.scheduleNextStep({ delay: 0, action: 'item', payload: { i } });
  }
  async item({ i }, headers, api) {
    await new Promise((r) => setTimeout(r, 20));
    return { again: (await api.dedupe('item-' + i)).locked };
  }
}`;

interface Execution {
  id: string;
  status: string;
  attempt: number;
  error?: { code: string } | null;
  returnValue?: { resumeUrl?: string; again?: boolean; by?: string } | null;
  workflowStep?: { name: string; branch: string } | null;
}

interface Enrollment {
  id: string;
  status: string;
  object: { objectId: string };
  executions: Execution[];
}

export interface CrashScenario {
  n: number;
  waiterRuns: string[];
  fanOutRun: string;
  /** Resume paths (`/resume/rt_…`) of the waits, by run. */
  resumePaths: Map<string, string>;
  /** The timers' delay, s. */
  delaySeconds: number;
  /** At the kill: branches of the fan-out that had succeeded, runs still waiting on a timer. */
  atKill: { branchesDone: number; timersWaiting: number };
}

/** The run as the history has it; in distributed mode the history may not know a run enrolled a moment ago: an empty run then. */
const get = async (call: Call, id: string): Promise<Enrollment> => {
  const r = await call('GET', `/v1/enrollments/${id}`);
  if (r.status === 404) return { id, status: 'running', object: { objectId: '' }, executions: [] };
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as Enrollment;
};

/** Runs `f` over `items`, `width` at a time. */
async function eachLimited<T>(items: T[], width: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

/** The ids of a workflow's enrollments (all of them, a page of 5,000 at a time). */
async function enrollmentIds(call: Call, workflowId: string): Promise<string[]> {
  const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=5000`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.enrollments as Array<{ id: string }>).map((e) => e.id);
}

const succeeded = (e: Enrollment, name: string) => e.executions.filter((x) => x.workflowStep?.name === name && x.status === 'succeeded');

/** Enrolls `rows` in one batch and waits until each run has run `start` (polled in enrollment order, which is about the order they run in). */
async function enrollAndStart(call: Call, workflowId: string, rows: object[], onStarted: (id: string, start: Execution) => void): Promise<string[]> {
  const batch = await call('POST', `/v1/workflows/${workflowId}/enrollments:batch`, rows);
  assert.equal(batch.status, 202, JSON.stringify(batch.body));
  const ids = await waitFor(
    'the batch to enroll every run',
    async () => {
      const got = await enrollmentIds(call, workflowId);
      return got.length === rows.length ? got : undefined;
    },
    300_000,
  );
  const pending = [...ids].reverse(); // the list is newest first
  await waitFor(
    'every run of the batch to have run start',
    async () => {
      while (pending.length) {
        const e = await get(call, pending[0]!);
        const start = succeeded(e, 'start')[0];
        if (!start) break;
        onStarted(pending.shift()!, start);
      }
      if (pending.length) await new Promise((r) => setTimeout(r, 500));
      return pending.length === 0 ? true : undefined;
    },
    600_000,
  );
  return ids;
}

/**
 * Creates the workflows and enrolls the `n` waiting runs: first the waits (half), timing how fast
 * their `start` steps run, then the timers (half), with a delay that this rate says outlasts
 * their own enrollment by a third plus `marginSeconds` (so they all still wait when the kill
 * comes and come due soon after the restart; a fan-out slow to get going on a loaded machine can
 * still let some fire first: the tests need only some waiting). Then starts the fan-out and resolves as soon as
 * some of its branches have succeeded and most have not: the moment to kill.
 */
export async function prepareCrash(call: Call, n: number, marginSeconds = 40): Promise<CrashScenario> {
  const create = async (name: string, code: string) => {
    const wf = await call('POST', '/v1/workflows', { name, objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    return wf.body.id as string;
  };
  const waiter = await create('crash waits', WAITER);
  const timer = await create('crash timers', WAITER);
  const fanOut = await create('crash fan-out', FAN_OUT);
  const half = n / 2;
  const resumePaths = new Map<string, string>();
  const t0 = Date.now();
  const waits = Array.from({ length: half }, (_, i) => ({ objectId: `wait-${i}`, properties: { kind: 'wait', run: `wait-${i}` } }));
  const waitRuns = await enrollAndStart(call, waiter, waits, (id, start) => {
    assert.ok(start.returnValue?.resumeUrl, `run ${id} handed out its resume URL`);
    resumePaths.set(id, new URL(start.returnValue.resumeUrl).pathname);
  });
  const delaySeconds = Math.ceil(((Date.now() - t0) / 1000) * 1.33 + marginSeconds);
  const timers = Array.from({ length: half }, (_, i) => ({ objectId: `timer-${i}`, properties: { kind: 'timer', delay: delaySeconds, run: `timer-${i}` } }));
  const timerRuns = await enrollAndStart(call, timer, timers, () => {});
  const waiterRuns = [...waitRuns, ...timerRuns];

  const enrolled = await call('POST', `/v1/workflows/${fanOut}/enrollments`, { object: { objectType: 'WEBHOOK', objectId: 'fan-out', properties: { n: String(n) } } });
  assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
  const fanOutRun = enrolled.body.id as string;
  const branchesDone = await waitFor(
    'the fan-out to be under way',
    async () => {
      const done = succeeded(await get(call, fanOutRun), 'item').length;
      return done >= Math.min(20, n / 10) ? done : undefined;
    },
    600_000,
  );
  assert.ok(branchesDone < n, `the fan-out is in flight at the kill (${branchesDone} of ${n} branches done)`);
  let timersWaiting = 0;
  await eachLimited(timerRuns, 8, async (id) => void (succeeded(await get(call, id), 'later').length === 0 && timersWaiting++));
  return { n, waiterRuns, fanOutRun, resumePaths, delaySeconds, atKill: { branchesDone, timersWaiting } };
}

/** The steps one run ran, checked: each branch's step succeeded once, its first attempt not a repeat. */
function checkRun(e: Enrollment, expected: Record<string, number>): { lost: number } {
  assert.equal(e.status, 'completed', `run ${e.id} (${e.object.objectId}) completed: ${JSON.stringify(e.executions.filter((x) => x.status !== 'succeeded'))}`);
  const byBranch = new Map<string, Execution[]>();
  for (const x of e.executions) {
    const key = `${x.workflowStep?.name}@${x.workflowStep?.branch}`;
    byBranch.set(key, [...(byBranch.get(key) ?? []), x]);
  }
  const names: Record<string, number> = {};
  let lost = 0;
  for (const [key, xs] of byBranch) {
    const ok = xs.filter((x) => x.status === 'succeeded');
    assert.equal(ok.length, 1, `run ${e.id}: step ${key} succeeded exactly once (${JSON.stringify(xs.map((x) => [x.attempt, x.status, x.error?.code]))})`);
    for (const x of xs) if (x !== ok[0]) assert.equal(x.error?.code, 'EXECUTOR_LOST', `run ${e.id}: the other attempts of ${key} were lost in the crash, then retried`);
    if (ok[0]!.attempt === 1) assert.notEqual(ok[0]!.returnValue?.again, true, `run ${e.id}: ${key} ran before its first recorded attempt`);
    lost += xs.length - 1;
    const name = key.split('@')[0]!;
    names[name] = (names[name] ?? 0) + 1;
  }
  assert.deepEqual(names, expected, `run ${e.id}: the steps it ran`);
  return { lost };
}

/**
 * After the restart: resumes every wait by a POST to its URL at `url`, waits for every run to
 * complete, and checks them. Returns how many step executions were lost in the crash (and retried).
 */
export async function finishAfterCrash(call: Call, url: string, s: CrashScenario): Promise<{ lost: number }> {
  await eachLimited([...s.resumePaths.values()], 8, async (path) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'after-crash' }) });
    assert.equal(res.status, 200, `resume ${path}: ${await res.text()}`);
  });
  const done = new Map<string, Enrollment>();
  const all = [...s.waiterRuns, s.fanOutRun];
  const notDone = async () => {
    const left = all.filter((id) => !done.has(id));
    const sample = left.length ? await get(call, left[0]!) : undefined;
    return `${left.length} of ${all.length} runs not complete; the first: ${JSON.stringify(sample && { status: sample.status, steps: sample.executions.map((x) => [x.workflowStep?.name, x.attempt, x.status, x.error?.code]) })}`;
  };
  await waitFor(
    'every run to complete',
    async () => {
      await eachLimited(
        all.filter((id) => !done.has(id)),
        8,
        async (id) => {
          const e = await get(call, id);
          // A completed run once its history has every step's result; a failed one at once (the check says why).
          if (e.status === 'failed' || (e.status === 'completed' && e.executions.every((x) => x.status === 'succeeded' || x.error?.code === 'EXECUTOR_LOST'))) done.set(id, e);
        },
      );
      return done.size === all.length ? true : undefined;
    },
    600_000,
  ).catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}: ${await notDone()}`);
  });
  let lost = 0;
  for (const id of s.waiterRuns) {
    const e = done.get(id)!;
    const waited = s.resumePaths.has(id) ? 'resumed' : 'later';
    lost += checkRun(e, { start: 1, [waited]: 1 }).lost;
    if (waited === 'resumed') assert.equal(succeeded(e, 'resumed')[0]!.returnValue?.by, 'after-crash');
  }
  lost += checkRun(done.get(s.fanOutRun)!, { start: 1, item: s.n }).lost;
  return { lost };
}
