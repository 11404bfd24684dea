/**
 * Ids: random ones in their format from pooled CSPRNG bytes (never the same bytes twice), and
 * deterministic ones that stay what they were (a redelivered input must give the same id across versions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deterministicId, newId, randomHex, randomId } from './ids.ts';

describe('ids', () => {
  it('makes prefixed random ids of 32 hex digits, all different, across many refills of the pool', () => {
    const ids = Array.from({ length: 2_000 }, () => newId('enr'));
    for (const id of ids) assert.match(id, /^enr_[0-9a-f]{32}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('hands out random hex of the length asked, and refuses lengths outside 1 to 256 bytes', () => {
    assert.match(randomHex(4), /^[0-9a-f]{8}$/);
    assert.match(randomHex(256), /^[0-9a-f]{512}$/);
    // Draws that do not divide the pool evenly still come whole from a fresh fill.
    for (let i = 0; i < 100; i++) assert.match(randomHex(100), /^[0-9a-f]{200}$/);
    for (const bad of [0, -1, 257, 1.5, Number.NaN]) assert.throws(() => randomHex(bad), /randomHex takes 1 to 256 bytes/);
  });

  it('never repeats bytes: 64-bit draws are all different', () => {
    const draws = Array.from({ length: 5_000 }, () => randomHex(8));
    assert.equal(new Set(draws).size, draws.length);
  });

  it('gives random uuids as randomId', () => {
    assert.match(randomId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('derives the same deterministic ids as before (the first 128 bits of SHA-256 over the parts joined by NUL)', () => {
    assert.equal(deterministicId('evt', 'enr_1', 'step', 2), 'evt_42424719291d671b57e2679ec112266b');
    assert.equal(deterministicId('wf', 'tnt_ü', 'ключ'), 'wf_7ef4e8e7d6ccb1d682da8fbbf0679307');
    assert.notEqual(deterministicId('evt', 'a', 'b'), deterministicId('evt', 'ab'), 'the parts stay apart');
  });
});
