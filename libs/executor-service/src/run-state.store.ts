/**
 * JsWorkflows' run state, answered for the sandbox while a step runs: `api.runStore` (JSON values
 * shared by every step and branch of one run, one document per enrollment) and `api.dedupe(key)`
 * (a key per workflow, locked for a window). Every write is a compare-and-set on the document,
 * retried from the newer version when another branch wrote first, so `push` and `increment`
 * from concurrent branches on any executor lose nothing. The run's document is removed when
 * its enrollment ends ({@link removeEndedRunStores}).
 *
 * Not events: the values are working memory of a run (a counter, a list gathered by a fan-out),
 * as Temporal keeps workflow-local state out of its history; what the steps did with them is
 * in their executions' history.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '@codestep/core';
import type { ConsumedRecord } from '@codestep/event-log';
import { fromRecord } from '@codestep/events';
import { tenantScoped, type DocumentStore } from '@codestep/store';

export const RUN_STORES = 'run_stores';
export const DEDUPE_KEYS = 'dedupe_keys';

/** Compare-and-set attempts before an operation gives up (and the step sees an error it may retry). */
const MAX_ATTEMPTS = 500;

export interface RunStateSettings {
  /** Largest run store, characters of JSON over all its keys. @default 262144 (256 KiB) */
  maxChars: number;
  /** How long `api.dedupe(key)` keeps a key locked, ms. @default 86400000 (24 hours) */
  dedupeWindowMs: number;
}

export const DEFAULT_RUN_STATE_SETTINGS: RunStateSettings = { maxChars: 256 * 1024, dedupeWindowMs: 24 * 3600_000 };

interface RunStoreDoc {
  tenantId: string;
  enrollmentId: string;
  values: Record<string, unknown>;
}

interface DedupeDoc {
  tenantId: string;
  workflowId: string;
  expiresAt: number;
}

/** Whose run an operation is for. */
export interface RunRef {
  tenantId: string;
  workflowId: string;
  enrollmentId: string;
}

type Answer = { value?: unknown; error?: string };
/** A key's value, own properties only (a key like `__proto__` or `toString` is a key like any other). */
const own = (values: Record<string, unknown>, key: string): unknown => (Object.hasOwn(values, key) ? values[key] : undefined);
type Request = { op?: unknown; key?: unknown; value?: unknown };

export interface RunStateStore {
  ensureCollections(): Promise<void>;
  /** Does one operation (`requestJson` as the sandbox sends it); never throws for the step's mistakes. */
  apply(run: RunRef, requestJson: string): Promise<Answer>;
}

export function createRunStateStore(store: DocumentStore, clock: Clock, settings: RunStateSettings = DEFAULT_RUN_STATE_SETTINGS): RunStateStore {
  /** Changes the run's values with `change` (which may answer an error) under compare-and-set. */
  async function update(run: RunRef, change: (values: Record<string, unknown>) => { values: Record<string, unknown>; value: unknown } | { error: string }): Promise<Answer> {
    const tenant = tenantScoped(store, run.tenantId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await tenant.get<RunStoreDoc>(RUN_STORES, run.enrollmentId);
      const changed = change({ ...(current?.doc.values ?? {}) });
      if ('error' in changed) return changed;
      const chars = JSON.stringify(changed.values).length;
      if (chars > settings.maxChars) {
        return { error: `api.runStore: the run's store would hold ${chars} characters of JSON, over the cap of ${settings.maxChars} (CODESTEP_RUN_STORE_MAX_CHARS); keep small values there` };
      }
      const doc: RunStoreDoc = { tenantId: run.tenantId, enrollmentId: run.enrollmentId, values: changed.values };
      if (await tenant.compareAndSet<RunStoreDoc>(RUN_STORES, run.enrollmentId, current?.version ?? 0, doc)) return { value: changed.value };
    }
    return { error: 'api.runStore: too many branches wrote at once; try again' };
  }

  async function dedupe(run: RunRef, key: string): Promise<Answer> {
    const tenant = tenantScoped(store, run.tenantId);
    const id = createHash('sha256').update(`${run.workflowId}\n${key}`).digest('base64url');
    const now = clock();
    const fresh: DedupeDoc = { tenantId: run.tenantId, workflowId: run.workflowId, expiresAt: now + settings.dedupeWindowMs };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await tenant.get<DedupeDoc>(DEDUPE_KEYS, id);
      if (current && current.doc.expiresAt > now) return { value: { locked: true } };
      if (!current) {
        if (await tenant.insertIfAbsent<DedupeDoc>(DEDUPE_KEYS, id, fresh)) return { value: { locked: false } };
      } else if (await tenant.compareAndSet<DedupeDoc>(DEDUPE_KEYS, id, current.version, fresh)) {
        return { value: { locked: false } };
      }
    }
    return { error: 'api.dedupe: the key kept changing; try again' };
  }

  return {
    async ensureCollections() {
      await store.ensureCollection(RUN_STORES, []);
      await store.ensureCollection(DEDUPE_KEYS, []);
    },
    async apply(run, requestJson) {
      let request: Request;
      try {
        request = JSON.parse(requestJson) as Request;
      } catch {
        return { error: 'the run-state request is not JSON' };
      }
      const { op, key, value } = request;
      if (typeof key !== 'string' || key === '') return { error: 'a run-state key must be a non-empty string' };
      switch (op) {
        case 'get': {
          const current = await tenantScoped(store, run.tenantId).get<RunStoreDoc>(RUN_STORES, run.enrollmentId);
          return { value: (current && own(current.doc.values, key)) ?? null };
        }
        case 'set':
          return update(run, (values) => ({ values: { ...values, [key]: value ?? null }, value: null }));
        case 'delete':
          return update(run, (values) => {
            delete values[key];
            return { values, value: null };
          });
        case 'push':
          return update(run, (values) => {
            const list = own(values, key) ?? [];
            if (!Array.isArray(list)) return { error: `api.runStore.push: "${key}" holds a ${typeof list}, not an array` };
            const next = [...(list as unknown[]), value ?? null];
            return { values: { ...values, [key]: next }, value: next.length };
          });
        case 'increment':
          return update(run, (values) => {
            const current = own(values, key) ?? 0;
            if (typeof current !== 'number') return { error: `api.runStore.increment: "${key}" holds a ${Array.isArray(current) ? 'array' : typeof current}, not a number` };
            const next = current + (typeof value === 'number' ? value : 1);
            return { values: { ...values, [key]: next }, value: next };
          });
        case 'dedupe':
          return dedupe(run, key);
        default:
          return { error: `unknown run-state operation ${JSON.stringify(op)}` };
      }
    },
  };
}

/**
 * Removes the run stores of enrollments that ended (a batch of the enrollments topic). Most runs
 * never had one (a HubSpot action, a JsWorkflows run that kept nothing), so the batch's stores are
 * looked up at once, one read per tenant, and only those found are deleted: a batch of ended
 * enrollments without stores costs one read, not a delete (two commands on MongoDB) each.
 */
export async function removeEndedRunStores(store: DocumentStore, batch: ConsumedRecord[]): Promise<void> {
  const endedByTenant = new Map<string, Set<string>>();
  for (const record of batch) {
    const env = fromRecord(record.value);
    const body = env?.event;
    if (body?.$case !== 'enrollmentCompleted' && body?.$case !== 'enrollmentFailed') continue;
    const ended = endedByTenant.get(env!.tenantId) ?? new Set<string>();
    ended.add(body.value.enrollmentId);
    endedByTenant.set(env!.tenantId, ended);
  }
  for (const [tenantId, ended] of endedByTenant) {
    const tenant = tenantScoped(store, tenantId);
    const kept = await tenant.getMany<RunStoreDoc>(RUN_STORES, [...ended]);
    for (const enrollmentId of kept.keys()) await tenant.delete(RUN_STORES, enrollmentId);
  }
}
