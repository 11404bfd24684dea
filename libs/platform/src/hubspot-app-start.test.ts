/**
 * The gateway's HubSpot app starts its parts in order (the portal owners following the
 * connections topic first); when a later part fails to start, the parts already started are
 * stopped before the error is rethrown, so no subscription is left following the log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@codestep/core';
import type { EventLog, Subscription } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { SqliteStore } from '@codestep/store-sqlite';
import { loadPlatformConfig } from './platform.config.ts';
import { startHubSpotApp } from './services.ts';

describe('the gateway HubSpot app failing to start', () => {
  it('stops the portal owners it started when the triggers projection fails to start, then rethrows', async () => {
    const log = new SqliteEventLog({ path: ':memory:' });
    const store = new SqliteStore({ path: ':memory:' });
    /** Group → whether its subscription is still running. */
    const running = new Map<string, boolean>();
    const eventLog: EventLog = {
      ensureTopics: (topics) => log.ensureTopics(topics),
      append: (records) => log.append(records),
      consume: async (options) => {
        if (options.group === 'codestep-gateway-hubspot-triggers') throw new Error('the triggers group could not join');
        const sub = await log.consume(options);
        running.set(options.group, true);
        return { ...sub, stop: async (): Promise<void> => (await sub.stop(), void running.set(options.group, false)) } as Subscription;
      },
      readAll: (topics, handle) => log.readAll(topics, handle),
      close: () => log.close(),
    };
    const config = loadPlatformConfig({ HUBSPOT_APP_ID: '1234', HUBSPOT_CLIENT_SECRET: 'secret', CODESTEP_HTTP_PORT: '0' });
    const unused = () => Promise.reject(new Error('not called'));
    try {
      await assert.rejects(
        startHubSpotApp(config, createLogger({}, { write: () => {} }), {
          clients: { credentials: { findAccountConnection: unused, getConnectionToken: unused } } as never,
          store,
          eventLog,
          limitsOf: unused as never,
          fetchCrmProperties: unused as never,
          prefetchCrmProperties: unused as never,
        }),
        /the triggers group could not join/,
      );
      const portals = [...running].filter(([group]) => group.startsWith('codestep-gateway-hubspot-portals'));
      assert.equal(portals.length, 1, 'the portal owners were started first');
      assert.deepEqual(portals[0]![1], false, 'and stopped before the error was rethrown');
    } finally {
      await store.close();
      await log.close();
    }
  });
});
