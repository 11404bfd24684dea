import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter } from './retry-after.ts';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 0, 1, 12);

  it('reads delta-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('7', now), 7000);
  });

  it('reads an HTTP date as the time left until it', () => {
    assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 30_000);
    assert.equal(parseRetryAfter(new Date(now - 30_000).toUTCString(), now), 0);
  });

  it('caps the wait at one hour', () => {
    assert.equal(parseRetryAfter('999999', now), 3_600_000);
  });

  it('ignores a missing or unreadable header', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
  });
});
