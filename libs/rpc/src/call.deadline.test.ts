import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callDeadline, withCallDeadline, withoutCallDeadline } from './call.deadline.ts';

describe("a served call's deadline", () => {
  it('bounds the deadline of the service calls made for it, across awaits, and the earlier of two nested ones wins', async () => {
    const at = Date.now() + 500;
    await withCallDeadline(at, async () => {
      await new Promise((r) => setImmediate(r));
      assert.equal(callDeadline(10_000), at);
      assert.ok(callDeadline(10) < at, "a call's own earlier deadline stays");
      withCallDeadline(at + 1_000, () => assert.equal(callDeadline(10_000), at, 'a later inner deadline does not extend it'));
      withCallDeadline(at - 100, () => assert.equal(callDeadline(10_000), at - 100));
    });
  });

  it('does not bound calls made outside it, nor work started withoutCallDeadline', async () => {
    const at = Date.now() + 500;
    assert.ok(callDeadline(10_000) > at + 5_000);
    const background = withCallDeadline(at, () => withoutCallDeadline(async () => (await new Promise((r) => setImmediate(r)), callDeadline(10_000))));
    assert.ok((await background) > at + 5_000);
  });
});
