/**
 * The sandbox host process. The client starts it with an empty environment and Node's
 * permission model: no file system access at all (its code arrives on stdin, its workers'
 * code in the `init` message), no child processes, no addons; worker threads allowed. It talks
 * to the client over Node IPC only (see `protocol.ts`) and exits when the client goes away.
 */
import { Outbox, type ClientToHost, type HostToClient } from '../protocol.ts';
import { WorkerPool } from './worker-pool.ts';

let pool: WorkerPool | undefined;

const outbox = new Outbox<HostToClient>((message) => {
  if (process.connected) process.send?.(message);
});
function send(message: HostToClient): void {
  outbox.send(message);
}

function diagnostic(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, string | number | boolean>): void {
  send(fields ? { type: 'diagnostic', level, message, fields } : { type: 'diagnostic', level, message });
}

async function shutdown(code: number): Promise<never> {
  // A stuck termination must not keep the process alive.
  setTimeout(() => process.exit(code), 2000).unref();
  await pool?.close();
  outbox.flush();
  process.exit(code);
}

process.on('message', (message: ClientToHost) => handle(message));

function handle(message: ClientToHost): void {
  switch (message.type) {
    case 'batch': {
      for (const inner of message.messages) handle(inner);
      return;
    }
    case 'init': {
      if (pool) return;
      const settings = message.settings;
      pool = new WorkerPool({
        poolSize: settings.poolSize,
        defaultMemoryMb: settings.defaultMemoryMb,
        ...(settings.memoryCeilingMb === undefined ? {} : { memoryCeilingMb: settings.memoryCeilingMb }),
        egress: settings.egress,
        runtime: settings.runtime,
        workerSource: settings.workerSource,
        onOAuth: (id, callId, handle) => send({ type: 'oauth', id, callId, handle }),
        onRunState: (id, callId, requestJson) => send({ type: 'run-state', id, callId, requestJson }),
        requestSource: (name) => send({ type: 'source-request', name }),
        diagnostic,
      });
      // Ready once the pre-warmed workers are: the first executions find them waiting.
      void pool.prewarm().then(() => send({ type: 'ready' }));
      return;
    }
    case 'execute': {
      if (!pool) {
        send({ type: 'error', id: message.id, error: { name: 'CodestepError', code: 'SANDBOX_NOT_READY', message: 'the sandbox host was not initialised' } });
        return;
      }
      pool
        .run(message.id, message.execution)
        .then((result) => send({ type: 'result', id: message.id, result }))
        .catch((error: unknown) => send({ type: 'error', id: message.id, error: { name: 'Error', code: 'SANDBOX_INTERNAL', message: error instanceof Error ? error.message : String(error) } }));
      return;
    }
    case 'source': {
      pool?.sourceArrived(String(message.name), typeof message.source === 'string' ? message.source : null);
      return;
    }
    case 'oauth-result': {
      pool?.oauthAnswer(message.id, message.callId, message.resultJson);
      return;
    }
    case 'run-state-result': {
      pool?.runStateAnswer(message.id, message.callId, message.answerJson);
      return;
    }
    case 'stats': {
      const stats = pool?.stats() ?? { workers: 0, busy: 0, queued: 0, replaced: 0, coldStartsMs: [] };
      send({ type: 'stats', id: message.id, stats: { ...stats, rssBytes: process.memoryUsage.rss() } });
      return;
    }
    case 'shutdown': {
      void shutdown(0);
      return;
    }
  }
}

// The client is gone: nobody can receive results any more.
process.on('disconnect', () => void shutdown(0));
process.on('uncaughtException', (error) => {
  diagnostic('error', `sandbox host failed: ${error.message}`);
  void shutdown(70);
});
