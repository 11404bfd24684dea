/**
 * Test wiring: a broker over SQLite adapters in a temporary directory, a controllable clock,
 * and captured logs, so that tests can look at everything the broker wrote.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, signGrant } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { fromRecord, Topics, type Envelope } from '@codestep/events';
import { tenantScoped } from '@codestep/store';
import { testPki, type TestPki } from '@codestep/rpc/testing';
import { SqliteStore } from '@codestep/store-sqlite';
import { createCredentialsService, createSecretBox, type CredentialsService, type CredentialsServiceOptions, type OAuthProvider } from '@codestep/credentials-service';
import { aad, COLLECTIONS, type ConnectionDoc, type StoredCredentials } from '@codestep/credentials-service/testing';

export interface TestClock {
  now(): number;
  /** Moves the broker's time forward (the provider's clock is real time). */
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export interface BrokerHarness {
  dir: string;
  masterKey: Buffer;
  /** Signs the execution grants the broker's gRPC face checks (the enrollment service's key). */
  grantKey: Buffer;
  /** An execution grant for one execution, as the enrollment service would stamp it (an hour long). */
  grant(tenantId: string, executionId: string, allows: { secrets?: string[]; connections?: string[] }): string;
  /** The TLS identities of the test CA: serve the broker as `oauth-broker`, call it as `gateway` or `executor`. */
  pki: TestPki;
  clock: TestClock;
  logs: string[];
  service: CredentialsService;
  /** Another broker instance over the same files (a second executor-side process stands in). */
  instance(overrides?: Partial<CredentialsServiceOptions>): Promise<CredentialsService>;
  events(): Promise<Envelope[]>;
  /** Every byte the broker persisted (store and event-log files, WAL included), as latin1 text. */
  persistedBytes(): string;
  /** Opens a connection's sealed tokens with the master key, as only the broker can. */
  storedCredentials(tenantId: string, handle: string): Promise<StoredCredentials>;
  close(): Promise<void>;
}

export const REDIRECT_URI = 'http://127.0.0.1:8080/oauth/callback';

export async function brokerHarness(providers: OAuthProvider[], overrides: Partial<CredentialsServiceOptions> = {}): Promise<BrokerHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-credentials-'));
  const masterKey = randomBytes(32);
  const grantKey = randomBytes(32);
  const pki = await testPki();
  const clock = testClock();
  const logs: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  const storePath = join(dir, 'credentials.db');
  const eventsPath = join(dir, 'events.db');
  const instance = async (more: Partial<CredentialsServiceOptions> = {}) => {
    const store = new SqliteStore({ path: storePath });
    const eventLog = new SqliteEventLog({ path: eventsPath });
    closers.push(
      () => store.close(),
      () => eventLog.close(),
    );
    return createCredentialsService({
      store,
      eventLog,
      masterKey,
      grantKey,
      providers,
      redirectUri: REDIRECT_URI,
      clock: clock.now,
      httpTimeoutMs: 5_000,
      logger: createLogger({ service: 'oauth-broker' }, { level: 'debug', write: (line) => logs.push(line) }),
      ...overrides,
      ...more,
    });
  };
  const service = await instance();
  const reader = new SqliteEventLog({ path: eventsPath });
  closers.push(() => reader.close());
  return {
    dir,
    masterKey,
    grantKey,
    grant: (tenantId, executionId, allows) => signGrant(grantKey, { tenantId, executionId, secrets: allows.secrets ?? [], connections: allows.connections ?? [], expiresAt: clock.now() + 3_600_000 }),
    pki,
    clock,
    logs,
    service,
    instance,
    async events() {
      const out: Envelope[] = [];
      await reader.readAll([Topics.connections], async (batch) => {
        for (const r of batch) {
          const env = fromRecord(r.value);
          if (env) out.push(env);
        }
      });
      return out;
    },
    persistedBytes() {
      return readdirSync(dir)
        .map((f) => readFileSync(join(dir, f)).toString('latin1'))
        .join('\n');
    },
    async storedCredentials(tenantId, handle) {
      const store = new SqliteStore({ path: storePath });
      try {
        const doc = (await tenantScoped(store, tenantId).get<ConnectionDoc>(COLLECTIONS.connections, handle))?.doc;
        if (!doc?.credentials) throw new Error(`connection ${tenantId}/${handle} holds no credentials`);
        return JSON.parse(createSecretBox(masterKey).open(doc.credentials, aad.connection(tenantId, handle))) as StoredCredentials;
      } finally {
        await store.close();
      }
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
