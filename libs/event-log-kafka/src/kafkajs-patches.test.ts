import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { patchKafkajsRequestQueue } from './kafkajs-patches.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  destroy(): void;
}
type QueueClass = new (args: Record<string, unknown>) => Queue;

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as QueueClass;
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const newQueue = () => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger: silent });

void describe('kafkajs request queue fix', () => {
  assert.equal(patchKafkajsRequestQueue(), true, 'kafkajs 2.2.4 is installed and patched');

  void it('arms no timer when nothing waits, so an idle connection stops polling', () => {
    const queue = newQueue();
    queue.scheduleCheckPendingRequests();
    assert.equal(queue.throttleCheckTimeoutId, null);
    queue.checkPendingRequests();
    assert.equal(queue.throttleCheckTimeoutId, null);
  });

  void it('checks waiting requests after a short interval, or when a throttle ends', () => {
    const queue = newQueue();
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    assert.notEqual(queue.throttleCheckTimeoutId, null);
    queue.destroy();

    const throttled = newQueue();
    throttled.pending.push({});
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    const timer = throttled.throttleCheckTimeoutId as unknown as { _idleTimeout: number } | null;
    assert.ok(timer && timer._idleTimeout > 50_000, 'the check waits for the throttle');
    throttled.destroy();
  });

  void it('patches once however often it is applied', () => {
    const before = newQueue().scheduleCheckPendingRequests;
    assert.equal(patchKafkajsRequestQueue(), true);
    assert.equal(newQueue().scheduleCheckPendingRequests, before);
  });
});
