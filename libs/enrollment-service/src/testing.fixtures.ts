/**
 * Test fixtures of the enrollment service's unit tests: a SQLite store and event log in temp
 * files, an event log that remembers every record appended, a store that fails once on demand
 * (a crash between two writes), and request builders. Tests only: the SQLite adapters are
 * real and cheap, so the service's tests run on them rather than on mocks of the ports; the
 * service's own modules never import an adapter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionDefinition, workflowsV1 } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { fromRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { createGrantStamper, type GrantSettings } from './execution-grant.stamper.ts';

export interface Fixture {
  dir: string;
  store: DocumentStore;
  /** The event log, remembering what was appended through it. */
  eventLog: EventLog & { appended: LogRecord[] };
  /** Every record of the topics, from the beginning. */
  read(topics: string[]): Promise<ConsumedRecord[]>;
  /** The values appended under one record id, as hex (to compare bytes). */
  valuesOf(id: string): string[];
  close(): Promise<void>;
}

export const logger = silentLogger;

/** The grant settings of the tests: a fixed key, an hour. */
export const GRANTS: GrantSettings = { key: Buffer.alloc(32, 1), ttlMs: 3_600_000 };
/** The stamper of {@link GRANTS}. */
export const stampGrants = createGrantStamper(GRANTS);

export function recordingLog(log: EventLog): EventLog & { appended: LogRecord[] } {
  const appended: LogRecord[] = [];
  return {
    appended,
    ensureTopics: (t) => log.ensureTopics(t),
    append: async (records) => {
      await log.append(records);
      appended.push(...records);
    },
    consume: (o) => log.consume(o),
    readAll: (t, h) => log.readAll(t, h),
    close: () => log.close(),
  };
}

/** A store whose `method` throws once for `collection`: a crash right before that write. */
export function failingOnce(store: DocumentStore, method: keyof DocumentStore, collection: string): DocumentStore & { failed: boolean } {
  const state = { failed: false };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'failed') return state.failed;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === method && args[0] === collection && !state.failed) {
          state.failed = true;
          return Promise.reject(new Error(`injected crash before ${String(method)} on ${collection}`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as DocumentStore & { failed: boolean };
}

export function openFixture(dir = mkdtempSync(join(tmpdir(), 'codestep-enrollment-'))): Fixture {
  const store = new SqliteStore({ path: join(dir, 'enrollment.db') });
  const eventLog = recordingLog(new SqliteEventLog({ path: join(dir, 'events.db'), pollIntervalMs: 20 }));
  return {
    dir,
    store,
    eventLog,
    async read(topics) {
      const out: ConsumedRecord[] = [];
      await eventLog.readAll(topics, async (batch) => {
        out.push(...batch);
      });
      return out;
    },
    valuesOf: (id) => eventLog.appended.filter((r) => r.id === id).map((r) => Buffer.from(r.value).toString('hex')),
    async close() {
      await eventLog.close();
      await store.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function decode(records: Array<{ value: Uint8Array }>): Envelope[] {
  return records.flatMap((r) => fromRecord(r.value) ?? []);
}

export function actionDef(actionId: string): ActionDefinition {
  return {
    actionId,
    name: actionId,
    runtime: 'hubspot',
    code: 'exports.main = async (event, callback) => callback({ outputFields: {} });',
    inputFields: [],
    outputFields: [],
    secretNames: [],
    timeoutMs: 0,
    memoryMb: 0,
    connectionHandles: [],
    runtimeVersion: 'node20',
  };
}

export function createRequest(overrides: Partial<workflowsV1.CreateWorkflowRequest> = {}): workflowsV1.CreateWorkflowRequest {
  return { tenantId: 't1', name: 'Welcome', objectType: 'CONTACT', actions: [actionDef('a')], requestId: '', limits: undefined, ...overrides };
}

export function updateRequest(workflowId: string, overrides: Partial<workflowsV1.UpdateWorkflowRequest> = {}): workflowsV1.UpdateWorkflowRequest {
  return { tenantId: 't1', workflowId, name: '', objectType: '', actions: [actionDef('a'), actionDef('b')], limits: undefined, ...overrides };
}

/** A clock that moves forward by 1 ms on every read, from `start`. */
export function tickingClock(start = 1_000): () => number {
  let now = start;
  return () => now++;
}
