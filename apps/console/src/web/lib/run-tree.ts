/**
 * An enrollment's executions as a tree (the run view of a JsWorkflows action): one node per step
 * of a branch (its attempts together, retries and re-runs included), under the step that scheduled
 * it (`workflowStep.scheduledBy`, the execution whose `api.scheduleNextStep` or `api.waitForEvent`
 * started the branch). Steps of HubSpot actions, and a JsWorkflows action's `start`, are roots, in
 * the order of the workflow. Each node carries its status, the time its attempts ran, and the span
 * of its whole subtree, so a collapsed branch still says how it went and how long it took.
 */

/** What the tree reads of an execution (GET /v1/enrollments/{id}'s `executions[]`). */
export interface RunExecution {
  id: string;
  actionId: string;
  step: number;
  attempt: number;
  status: string;
  durationMs: number;
  requestedAt: string | null;
  finishedAt: string | null;
  workflowStep?: { name: string; branch: string; depth: number; scheduledBy: string | null; dueAt: string | null } | undefined;
  wait?: { state: string } | undefined;
}

export interface RunNode<X extends RunExecution = RunExecution> {
  /** Stable across refreshes: the action's step and the branch. */
  key: string;
  /** The JsWorkflows step (method) it ran, or the action's id. */
  name: string;
  actionId: string;
  branch: string | undefined;
  depth: number;
  /** Its executions in the order they were requested (attempts, then re-runs). */
  attempts: X[];
  children: RunNode<X>[];
  /** Its last attempt's status; `waiting` while that attempt waits for its resume URL. */
  status: string;
  /** The time its own attempts ran, ms. */
  durationMs: number;
  /** From its first attempt's request to the last finish in its subtree, ms; undefined while part of the subtree is unfinished. */
  spanMs: number | undefined;
  /** Its subtree's nodes (itself included), and how many of them failed. */
  size: number;
  failed: number;
}

const ms = (iso: string | null | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

const FINISHED = new Set(['succeeded', 'failed', 'completed', 'skipped', 'cancelled', 'timed_out']);

function nodeOf<X extends RunExecution>(key: string, attempts: X[]): RunNode<X> {
  const first = attempts[0]!;
  const last = attempts[attempts.length - 1]!;
  return {
    key,
    name: first.workflowStep?.name ?? first.actionId,
    actionId: first.actionId,
    branch: first.workflowStep?.branch,
    depth: first.workflowStep?.depth ?? 0,
    attempts,
    children: [],
    status: last.wait?.state === 'waiting' ? 'waiting' : last.status,
    durationMs: attempts.reduce((sum, x) => sum + (x.durationMs || 0), 0),
    spanMs: undefined,
    size: 1,
    failed: 0,
  };
}

const startOf = (n: RunNode): number => ms(n.attempts[0]?.requestedAt) ?? ms(n.attempts[0]?.workflowStep?.dueAt) ?? Number.MAX_SAFE_INTEGER;

/** Fills each node's subtree figures (children first). */
function summarise(n: RunNode, open: (n: RunNode) => boolean): { from: number | undefined; to: number | undefined; done: boolean } {
  let from = ms(n.attempts[0]?.requestedAt);
  let to = Math.max(...n.attempts.map((x) => ms(x.finishedAt) ?? 0)) || undefined;
  let done = !open(n);
  n.size = 1;
  n.failed = n.status === 'failed' ? 1 : 0;
  for (const c of n.children) {
    const s = summarise(c, open);
    n.size += c.size;
    n.failed += c.failed;
    if (s.from !== undefined && (from === undefined || s.from < from)) from = s.from;
    if (s.to !== undefined && (to === undefined || s.to > to)) to = s.to;
    done &&= s.done;
  }
  n.spanMs = done && from !== undefined && to !== undefined ? Math.max(0, to - from) : undefined;
  return { from, to, done };
}

/** The executions as a forest: roots in the workflow's order, children in the order they were requested. */
export function runTree<X extends RunExecution>(executions: readonly X[]): RunNode<X>[] {
  const groups = new Map<string, X[]>();
  for (const x of executions) {
    const key = `${x.step}/${x.workflowStep ? x.workflowStep.branch || 'root' : ''}`;
    const list = groups.get(key);
    if (list) list.push(x);
    else groups.set(key, [x]);
  }
  const nodes = [...groups].map(([key, list]) =>
    nodeOf(
      key,
      [...list].sort((a, b) => (ms(a.requestedAt) ?? Infinity) - (ms(b.requestedAt) ?? Infinity)),
    ),
  );
  const nodeOfExecution = new Map<string, RunNode<X>>();
  for (const n of nodes) for (const x of n.attempts) nodeOfExecution.set(x.id, n);
  const parentOf = new Map<RunNode<X>, RunNode<X>>();
  for (const n of nodes) {
    const by = n.attempts.find((x) => x.workflowStep?.scheduledBy)?.workflowStep?.scheduledBy;
    const parent = by ? nodeOfExecution.get(by) : undefined;
    if (parent && parent !== n) parentOf.set(n, parent);
  }
  // A parent chain that loops (it cannot, from the API) would hide its nodes: cut it at the node that closes it.
  for (const n of nodes) {
    const seen = new Set<RunNode<X>>([n]);
    for (let p = parentOf.get(n); p; p = parentOf.get(p)) {
      if (seen.has(p)) {
        parentOf.delete(n);
        break;
      }
      seen.add(p);
    }
  }
  const roots: RunNode<X>[] = [];
  for (const n of nodes) (parentOf.get(n)?.children ?? roots).push(n);
  const byTime = (a: RunNode, b: RunNode) => startOf(a) - startOf(b);
  for (const n of nodes) n.children.sort(byTime);
  roots.sort((a, b) => a.attempts[0]!.step - b.attempts[0]!.step || byTime(a, b));
  const open = (n: RunNode) => !FINISHED.has(n.status);
  for (const r of roots) summarise(r, open);
  return roots;
}

/** Whether the executions are a JsWorkflows run (steps and branches), which the tree shows best. */
export function hasWorkflowSteps(executions: readonly RunExecution[]): boolean {
  return executions.some((x) => x.workflowStep);
}

/** The keys of every node with children, for "expand all". */
export function branchKeys(roots: readonly RunNode[]): string[] {
  return roots.flatMap((n) => (n.children.length ? [n.key, ...branchKeys(n.children)] : []));
}

/** A duration for people: 850 ms, 3.2 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(msValue: number | undefined): string {
  if (msValue === undefined) return '—';
  if (msValue < 1000) return `${Math.round(msValue)} ms`;
  if (msValue < 60_000) return `${(msValue / 1000).toFixed(1)} s`;
  const s = Math.round(msValue / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.round(m / 60 / 24)} d`;
}
