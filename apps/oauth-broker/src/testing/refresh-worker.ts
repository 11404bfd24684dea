/**
 * A broker instance in its own OS process, for the multi-process refresh test: it opens the
 * shared SQLite files, waits for "go", asks for one connection's token `count` times at once,
 * and reports the outcomes. Configured through the environment by the test (test-only).
 */
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { SqliteStore } from '@codestep/store-sqlite';
import { silentLogger } from '@codestep/core';
import { createCredentialsService, genericOAuth2Provider, type GenericProviderConfig, type TokenOutcome } from '@codestep/credentials-service';

export interface WorkerGo {
  type: 'go';
  clockOffsetMs: number;
  tenantId: string;
  handle: string;
  count: number;
}
export type WorkerMessage = { type: 'ready' } | { type: 'done'; outcomes: TokenOutcome[] } | { type: 'failed'; message: string };

const env = process.env;
let offset = 0;
const store = new SqliteStore({ path: env.WORKER_STORE_PATH ?? '' });
const eventLog = new SqliteEventLog({ path: env.WORKER_EVENTS_PATH ?? '' });
const service = await createCredentialsService({
  store,
  eventLog,
  masterKey: Buffer.from(env.WORKER_MASTER_KEY ?? '', 'base64'),
  // Only the domain API is used here: no gRPC, so no grant is ever checked.
  grantKey: Buffer.alloc(32),
  providers: [genericOAuth2Provider(JSON.parse(env.WORKER_PROVIDER ?? '{}') as GenericProviderConfig)],
  redirectUri: 'http://127.0.0.1:8080/oauth/callback',
  clock: () => Date.now() + offset,
  instanceId: `proc-${process.pid}`,
  logger: silentLogger,
});

const send = (m: WorkerMessage) => process.send?.(m);
process.on('message', (raw: WorkerGo | { type: 'exit' }) => {
  if (raw.type === 'exit') {
    void Promise.all([store.close(), eventLog.close()]).finally(() => process.exit(0));
    return;
  }
  offset = raw.clockOffsetMs;
  const calls = Array.from({ length: raw.count }, () => service.api.getOAuthToken({ tenantId: raw.tenantId, handle: raw.handle, declaredHandles: [raw.handle] }));
  Promise.all(calls).then(
    (outcomes) => send({ type: 'done', outcomes }),
    (error: unknown) => send({ type: 'failed', message: String(error) }),
  );
});
send({ type: 'ready' });
