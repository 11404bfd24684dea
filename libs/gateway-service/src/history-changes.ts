/**
 * Waiting for an outcome without polling: a request that answers with the outcome of what it
 * started (a webhook's `start` return value, a HubSpot action's outputs, an action test's
 * result) watches that run's history and reads it again only when the history views have
 * applied one of the events that could end its wait. The history service pushes the changes:
 * in one process straight from its projection (`createHistoryChangesHub`, fed after each applied
 * batch), between processes over its `Tail` stream (`tailHistoryChanges`), which publishes an
 * event only once the views hold it, so a read after a change sees it. A slow fallback read
 * (`FALLBACK_READ_MS`) covers a change missed while a stream was (re)connecting.
 */
import type { historyV1 } from '@codestep/contracts';

/** How often a waiting request reads again when told of nothing (a missed change), ms. */
export const FALLBACK_READ_MS = 1_000;

/** One waiting request's view of one run's history changes. */
export interface HistoryWatch {
  /**
   * Resolves true at the first change of interest since the watch opened or since the last
   * call resolved true (changes in between are not lost), false after `timeoutMs` or when
   * `signal` aborts.
   */
  changed(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  close(): void;
}

export interface HistoryChanges {
  /**
   * Watches the history of `runId` (an enrollment id, or a test's id: the events' correlation id,
   * else their aggregate id) for events whose type is in `types` (`EnrollmentCompleted`, …).
   */
  watch(tenantId: string, runId: string, types: ReadonlySet<string>): HistoryWatch;
  /**
   * Every change is pushed from this process as its views apply it (embedded mode): a watch opened
   * right after its run was started misses none, so nothing needs reading before the first one.
   */
  readonly inProcess?: boolean;
}

/** An applied event, as the history views report it: whose, which run's, which type. */
export interface HistoryChange {
  tenantId: string;
  runId: string;
  type: string;
}

class Watch implements HistoryWatch {
  #pending = false;
  #wake: (() => void) | undefined;
  readonly #types: ReadonlySet<string>;
  readonly #onClose: () => void;
  constructor(types: ReadonlySet<string>, onClose: () => void) {
    this.#types = types;
    this.#onClose = onClose;
  }

  notify(type: string): void {
    if (!this.#types.has(type)) return;
    this.#pending = true;
    this.#wake?.();
  }

  changed(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#pending || signal?.aborted) return Promise.resolve(this.#take());
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve(this.#take());
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  #take(): boolean {
    const was = this.#pending;
    this.#pending = false;
    return was;
  }

  close(): void {
    this.#wake?.();
    this.#onClose();
  }
}

/** In one process: the history service calls `publish` after each applied batch. */
export interface HistoryChangesHub extends HistoryChanges {
  publish(changes: Iterable<HistoryChange>): void;
}

export function createHistoryChangesHub(): HistoryChangesHub {
  const watches = new Map<string, Set<Watch>>();
  const keyOf = (tenantId: string, runId: string) => `${tenantId}\u0000${runId}`;
  return {
    inProcess: true,
    watch(tenantId, runId, types) {
      const key = keyOf(tenantId, runId);
      const set = watches.get(key) ?? new Set<Watch>();
      watches.set(key, set);
      const w: Watch = new Watch(types, () => {
        set.delete(w);
        if (set.size === 0 && watches.get(key) === set) watches.delete(key);
      });
      set.add(w);
      return w;
    },
    publish(changes) {
      if (watches.size === 0) return;
      for (const c of changes) for (const w of watches.get(keyOf(c.tenantId, c.runId)) ?? []) w.notify(c.type);
    },
  };
}

/** Between processes: one `Tail` stream of the run per waiting request, ended when it stops waiting. */
export function tailHistoryChanges(history: Pick<historyV1.HistoryClient, 'tail'>): HistoryChanges {
  return {
    watch(tenantId, runId, types) {
      const call = history.tail({ tenantId, enrollmentId: runId, workflowId: '' });
      const w = new Watch(types, () => call.cancel());
      call.on('data', (e: historyV1.TailEvent) => w.notify(e.type));
      // A broken stream leaves the fallback reads; the waiting request carries on.
      call.on('error', () => {});
      return w;
    },
  };
}

/** No changes pushed (clients without a tail): every wait is the fallback read. */
const NO_CHANGES: HistoryChanges = {
  watch: (_t, _r, types) => new Watch(types, () => {}),
};

/** The changes a set of clients offers: pushed in-process, else over the tail, else none. */
export function historyChangesOf(c: { changes?: HistoryChanges; historyRaw?: Pick<historyV1.HistoryClient, 'tail'> }): HistoryChanges {
  return c.changes ?? (c.historyRaw ? tailHistoryChanges(c.historyRaw) : NO_CHANGES);
}

/**
 * Reads `read` until `done` says its result is the answer, again only when the watch reports a
 * change (or after the fallback interval), until `until` (a `clock` time) or `signal` aborts (a
 * gateway that is stopping answers at once with what it has); the last result read (undefined if
 * none could be read: not projected yet). `afterChange`: the first read waits for the first change
 * too (a run this request has just started, watched in-process: it cannot be the answer before).
 */
export async function readUntil<T>(
  watch: HistoryWatch,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  until: number,
  clock: () => number,
  signal?: AbortSignal,
  afterChange = false,
): Promise<T | undefined> {
  let last: T | undefined;
  for (let first = true; ; first = false) {
    if (signal?.aborted) return last;
    if (!(first && afterChange)) {
      try {
        last = await read();
        if (done(last)) return last;
      } catch {
        // Not projected yet.
      }
    }
    const left = until - clock();
    if (left <= 0) return last;
    await watch.changed(Math.min(left, FALLBACK_READ_MS), signal);
  }
}
