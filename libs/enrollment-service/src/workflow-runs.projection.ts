/**
 * The JsWorkflows run state of each enrollment (which branches of its runs started and
 * finished, whether it failed), a projection of the actions and enrollments topics rebuilt by
 * `codestep replay`. The step machine reads and writes it under compare-and-set
 * ({@link decideWithRunState}) so results of concurrent branches, on any replica, see each other;
 * every change is a set union or a final marker, so the same events give the same document in
 * any order and applying one twice changes nothing.
 */
import { Topics, type Envelope } from '@codestep/events';
import type { DocumentStore, Projection, StoredDoc } from '@codestep/store';
import { applyToRunState, emptyRunState, type RunState, type StepDecision } from '@codestep/workflows';
import { envelopeProjection } from './envelope.projection.ts';

export const WORKFLOW_RUNS = 'workflow_runs';

/** Compare-and-set attempts before a write is given up (and the batch retried). */
const MAX_ATTEMPTS = 100;

export async function ensureWorkflowRuns(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WORKFLOW_RUNS, []);
}

/**
 * Does this event touch a run state? Step results, and the end of every enrollment: an end is
 * recorded even for an enrollment that ran no step (a small marker), because the log may give
 * it before the step results (two topics) and the document must come out the same either way.
 */
function touchesRun(env: Envelope): string | undefined {
  const body = env.event;
  if (body.$case === 'actionSucceeded' || body.$case === 'waitTimedOut') return body.value.context?.step ? body.value.context.enrollmentId : undefined;
  if (body.$case === 'enrollmentCompleted' || body.$case === 'enrollmentFailed' || body.$case === 'enrollmentRetried') return body.value.enrollmentId;
  return undefined;
}

/**
 * Reads the enrollment's run state, decides, and writes the decided state if nobody wrote in
 * between; decides again from the newer state otherwise. Returns the decision that was written.
 * `decide` may fold several results of the run at once (the step machine decides a batch's
 * results of one run together): one read and one write for them all, whatever the run's size.
 */
export async function decideWithRunState<D extends { state: RunState } = StepDecision>(
  store: DocumentStore,
  tenantId: string,
  enrollmentId: string,
  decide: (before: RunState) => D,
  /** The stored state when the caller just read it (the first attempt then reads nothing). */
  known?: StoredDoc<RunState>,
): Promise<D> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = attempt === 0 && known ? known : await store.get<RunState>(WORKFLOW_RUNS, enrollmentId);
    const decision = decide(current?.doc ?? emptyRunState(tenantId));
    if (current && (decision.state === current.doc || JSON.stringify(current.doc) === JSON.stringify(decision.state))) return decision;
    if (await store.compareAndSet<RunState>(WORKFLOW_RUNS, enrollmentId, current?.version ?? 0, decision.state)) return decision;
  }
  throw new Error(`the run state of enrollment ${enrollmentId} kept changing under ${MAX_ATTEMPTS} writes`);
}

/**
 * Applies envelopes (idempotent; the same state in any order). The runs they touch are read at
 * once; the states of runs not stored yet (most often the end marker of an enrollment that ran no
 * step) are inserted at once, then read back: one that another writer (the step machine, on this
 * replica or another) created meanwhile, and every run already stored, is written under
 * compare-and-set over what was read. A batch of ended enrollments thus costs four commands on
 * MongoDB, not a read and an insert each.
 */
export async function applyToWorkflowRuns(store: DocumentStore, envs: Envelope[]): Promise<void> {
  const byRun = new Map<string, Envelope[]>();
  for (const env of envs) {
    const enrollmentId = touchesRun(env);
    if (!enrollmentId) continue;
    const group = byRun.get(enrollmentId);
    if (group) group.push(env);
    else byRun.set(enrollmentId, [env]);
  }
  if (byRun.size === 0) return;
  const fold = (runEnvs: Envelope[]) => (before: RunState) => ({ state: runEnvs.reduce(applyToRunState, before) });
  const stored = await store.getMany<RunState>(WORKFLOW_RUNS, [...byRun.keys()]);
  const fresh = [...byRun]
    .filter(([enrollmentId]) => !stored.has(enrollmentId))
    .map(([enrollmentId, runEnvs]) => ({ id: enrollmentId, state: fold(runEnvs)(emptyRunState(runEnvs[0]!.tenantId)).state }));
  // Version 1 lands only where nothing is stored: an insert if absent, never over another writer's.
  let inserted = new Map<string, StoredDoc<RunState>>();
  if (fresh.length) {
    await store.writeVersioned<RunState>(
      WORKFLOW_RUNS,
      fresh.map((f) => ({ id: f.id, version: 1, doc: f.state })),
    );
    inserted = await store.getMany<RunState>(
      WORKFLOW_RUNS,
      fresh.map((f) => f.id),
    );
  }
  const landed = new Set(fresh.filter((f) => inserted.get(f.id)?.version === 1 && JSON.stringify(inserted.get(f.id)!.doc) === JSON.stringify(f.state)).map((f) => f.id));
  for (const [enrollmentId, runEnvs] of byRun) {
    if (landed.has(enrollmentId)) continue;
    await decideWithRunState(store, runEnvs[0]!.tenantId, enrollmentId, fold(runEnvs), stored.get(enrollmentId) ?? inserted.get(enrollmentId));
  }
}

/** The run states, for `codestep replay` (the live path writes them in the step machine and the projections consumer). */
export const workflowRunsProjection = envelopeProjection({
  name: 'workflow-runs',
  service: 'enrollment',
  topics: [Topics.actions, Topics.enrollments],
  collections: [WORKFLOW_RUNS],
  ensure: ensureWorkflowRuns,
  apply: applyToWorkflowRuns,
});

/**
 * The live half of {@link workflowRunsProjection} that the step machine does not write: the ends
 * of enrollments (the enrollment projections consumer applies it).
 */
export const workflowRunEndsProjection: Projection = { ...workflowRunsProjection, name: 'workflow-run-ends', topics: [Topics.enrollments] };
