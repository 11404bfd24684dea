import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSerializedError, PendingRequests } from './protocol.ts';

describe('PendingRequests', () => {
  it('answers each request by its id', async () => {
    const pending = new PendingRequests<string>();
    const a = pending.open();
    const b = pending.open();
    assert.notEqual(a.id, b.id);
    assert.equal(pending.resolve(b.id, 'second'), true);
    assert.equal(pending.resolve(a.id, 'first'), true);
    assert.equal(await a.promise, 'first');
    assert.equal(await b.promise, 'second');
    assert.equal(pending.size, 0);
  });

  it('ignores an answer for an unknown or already answered id', () => {
    const pending = new PendingRequests<string>();
    const a = pending.open();
    assert.equal(pending.resolve(a.id, 'x'), true);
    assert.equal(pending.resolve(a.id, 'again'), false);
    assert.equal(pending.reject(999, { name: 'Error', code: 'X', message: 'x' }), false);
  });

  it('rejects every pending request with the same serialised error when the other side dies', async () => {
    const pending = new PendingRequests<string>();
    const requests = [pending.open(), pending.open(), pending.open()];
    const error = { name: 'CodestepError', code: 'SANDBOX_HOST_EXITED', message: 'the sandbox host process ended (signal SIGKILL)' };
    pending.rejectAll(error);
    for (const request of requests) await assert.rejects(request.promise, (thrown) => thrown === error && isSerializedError(thrown));
    assert.equal(pending.size, 0);
  });
});
