/**
 * A fix for kafkajs 2.2.4's request queue, applied once when the adapter loads.
 *
 * `RequestQueue.scheduleCheckPendingRequests` re-arms its timer after every check even when no
 * request waits, with a negative delay that Node turns into 1 ms (tulios/kafkajs#1704, #1751;
 * fixes proposed in #1755 and #1768, unmerged, kafkajs unmaintained since). Once a connection has
 * had to queue one request it polls about a thousand times a second until destroyed, and a late
 * response can re-arm it after `disconnect()`, which keeps the process from exiting. Measured
 * here: an idle consumer-group member made ~4,600 checks/s, 3.3% of a core.
 *
 * The replacement arms the timer only while requests wait, at the end of a throttle or after the
 * usual 10 ms when they wait for an in-flight slot (a freed slot also triggers a check).
 */
import { createRequire } from 'node:module';

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's `CHECK_PENDING_REQUESTS_INTERVAL`, ms. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const PATCHED = Symbol.for('codestep.kafkajs.requestQueuePatched');

/** Applies the fix if this is the kafkajs it was written for; returns whether it is in place. */
export function patchKafkajsRequestQueue(): boolean {
  const require = createRequire(import.meta.url);
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== '2.2.4') return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals & { [PATCHED]?: true } };
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
    );
  };
  proto[PATCHED] = true;
  return true;
}
