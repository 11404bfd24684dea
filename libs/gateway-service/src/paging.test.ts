import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCursor, pageOf, type Page } from './paging.ts';

const q = (s: string) => new URLSearchParams(s);

describe('cursor paging', () => {
  it('walks every item once in key order, however the pages are cut', () => {
    const items = Array.from({ length: 23 }, (_, i) => ({ id: `x${String(22 - i).padStart(2, '0')}` }));
    for (const limit of [1, 5, 23, 50]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<{ id: string }> = pageOf(items, (x) => [x.id], q(`limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`));
        assert.ok(page.items.length <= limit);
        seen.push(...page.items.map((x) => x.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, [...items.map((x) => x.id)].sort(), `limit ${limit}`);
    }
  });

  it('neither repeats nor skips an item that was there when an earlier one goes away between pages', () => {
    const items = [1, 2, 3, 4, 5].map((n) => ({ n }));
    const first = pageOf(items, (x) => [x.n], q('limit=2'));
    const second = pageOf(
      items.filter((x) => x.n !== 2),
      (x) => [x.n],
      q(`limit=2&cursor=${first.nextCursor}`),
    );
    assert.deepEqual(
      [...first.items, ...second.items].map((x) => x.n),
      [1, 2, 3, 4],
    );
  });

  it('orders by later key parts when the first ones tie, numbers as numbers', () => {
    const items = [
      { at: 10, id: 'b' },
      { at: 9, id: 'z' },
      { at: 10, id: 'a' },
    ];
    assert.deepEqual(
      pageOf(items, (x) => [x.at, x.id], q('')).items.map((x) => x.id),
      ['z', 'a', 'b'],
    );
    assert.deepEqual(
      pageOf(items, (x) => [x.at, x.id], q(`cursor=${encodeCursor([10, 'a'])}`)).items.map((x) => x.id),
      ['b'],
    );
  });

  it('refuses a cursor it did not hand out, and a limit out of bounds, naming the parameter', () => {
    for (const bad of ['cursor=bogus', `cursor=${Buffer.from('{"a":1}').toString('base64url')}`, `cursor=${Buffer.from('[]').toString('base64url')}`]) {
      assert.throws(() => pageOf([], () => [''], q(bad)), /query parameter "cursor" is not a cursor of this list/);
    }
    assert.throws(() => pageOf([], () => [''], q('limit=1001')), /"limit" must be an integer from 1 to 1000/);
  });
});
