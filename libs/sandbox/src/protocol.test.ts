import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSerializedError, Outbox, PendingRequests, type Batch } from './protocol.ts';

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

describe('Outbox', () => {
  type Message = { type: 'm'; n: number };
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('writes the first message of a turn at once, and the ones after it in that turn as one batch, in order, after the turn', async () => {
    const written: Array<Message | Batch<Message>> = [];
    const outbox = new Outbox<Message>((message) => written.push(message));
    for (let n = 1; n <= 4; n++) outbox.send({ type: 'm', n });
    assert.deepEqual(written, [{ type: 'm', n: 1 }], 'the first is written at once, the others wait for the turn to end');
    await tick();
    assert.deepEqual(written, [
      { type: 'm', n: 1 },
      { type: 'batch', messages: [2, 3, 4].map((n) => ({ type: 'm', n })) },
    ]);
  });

  it('writes a lone message at once, and the first of a later turn at once again', async () => {
    const written: Array<Message | Batch<Message>> = [];
    const outbox = new Outbox<Message>((message) => written.push(message));
    outbox.send({ type: 'm', n: 1 });
    assert.equal(written.length, 1);
    await tick();
    outbox.send({ type: 'm', n: 2 });
    assert.equal(written.length, 2);
    await tick();
    assert.deepEqual(written, [
      { type: 'm', n: 1 },
      { type: 'm', n: 2 },
    ]);
  });

  it('splits a burst into batches of at most 64 messages, keeping the order', async () => {
    const written: Array<Message | Batch<Message>> = [];
    const outbox = new Outbox<Message>((message) => written.push(message));
    for (let n = 0; n < 151; n++) outbox.send({ type: 'm', n });
    outbox.flush();
    assert.deepEqual(
      written.map((w) => (w.type === 'batch' ? w.messages.length : 1)),
      [1, 64, 64, 22],
    );
    const order = written.flatMap((w) => (w.type === 'batch' ? w.messages : [w])).map((m) => m.n);
    assert.deepEqual(
      order,
      Array.from({ length: 151 }, (_, n) => n),
    );
    await tick();
    assert.equal(written.length, 4, 'a flush leaves nothing for the scheduled write');
  });
});
