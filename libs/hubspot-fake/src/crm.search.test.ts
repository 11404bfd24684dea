import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CrmStore } from './crm.store.ts';
import { compareValues, containsToken, parseSearchRequest, searchObjects, SearchRequestError } from './crm.search.ts';
import { resolveObjectType, type ObjectTypeSpec } from './object-types.ts';

const contacts = resolveObjectType('contacts') as ObjectTypeSpec;
const deals = resolveObjectType('deals') as ObjectTypeSpec;

function given(spec: ObjectTypeSpec, rows: Array<Record<string, string>>) {
  let now = Date.UTC(2024, 0, 1);
  const store = new CrmStore(() => (now += 1000), 1);
  for (const row of rows) store.create(1, spec, new Map(Object.entries(row)));
  return store.list(1, spec.name);
}

function ids(spec: ObjectTypeSpec, rows: Array<Record<string, string>>, body: unknown): string[] {
  return searchObjects(spec, given(spec, rows), parseSearchRequest(body)).results.map((o) => o.id);
}

const filter = (propertyName: string, operator: string, value?: string, extra: Record<string, unknown> = {}) => ({
  filterGroups: [{ filters: [{ propertyName, operator, value, ...extra }] }],
});

void describe('search filters', () => {
  const people: Array<Record<string, string>> = [
    { email: 'ann@example.com', firstname: 'Ann', age: '31' },
    { email: 'bob@other.test', firstname: 'bob', age: '9' },
    { email: 'cy@example.com', firstname: 'Cy' },
  ];

  void test('EQ compares text case-insensitively', () => {
    assert.deepEqual(ids(contacts, people, filter('firstname', 'EQ', 'BOB')), ['2']);
  });

  void test('NEQ also matches records where the property is unset', () => {
    assert.deepEqual(ids(contacts, people, filter('age', 'NEQ', '31')), ['2', '3']);
  });

  void test('GT and LT compare numbers as numbers, not as text', () => {
    assert.deepEqual(ids(contacts, people, filter('age', 'GT', '10')), ['1']);
    assert.deepEqual(ids(contacts, people, filter('age', 'LT', '10')), ['2']);
  });

  void test('BETWEEN includes both ends', () => {
    assert.deepEqual(ids(contacts, people, filter('age', 'BETWEEN', '9', { highValue: '31' })), ['1', '2']);
  });

  void test('IN and NOT_IN take a values list', () => {
    assert.deepEqual(ids(contacts, people, filter('firstname', 'IN', undefined, { values: ['ann', 'cy'] })), ['1', '3']);
    assert.deepEqual(ids(contacts, people, filter('firstname', 'NOT_IN', undefined, { values: ['ann', 'cy'] })), ['2']);
  });

  void test('HAS_PROPERTY and NOT_HAS_PROPERTY test presence', () => {
    assert.deepEqual(ids(contacts, people, filter('age', 'HAS_PROPERTY')), ['1', '2']);
    assert.deepEqual(ids(contacts, people, filter('age', 'NOT_HAS_PROPERTY')), ['3']);
  });

  void test('CONTAINS_TOKEN matches whole tokens and wildcards', () => {
    assert.deepEqual(ids(contacts, people, filter('email', 'CONTAINS_TOKEN', 'example.com')), ['1', '3']);
    assert.deepEqual(ids(contacts, people, filter('email', 'CONTAINS_TOKEN', '*@other.test')), ['2']);
    assert.deepEqual(ids(contacts, people, filter('email', 'CONTAINS_TOKEN', 'exam')), [], 'a partial token needs a wildcard');
    assert.deepEqual(ids(contacts, people, filter('email', 'CONTAINS_TOKEN', 'exam*')), ['1', '3']);
    assert.deepEqual(ids(contacts, people, filter('email', 'NOT_CONTAINS_TOKEN', 'example')), ['2']);
  });

  void test('filters in a group are AND-ed and groups are OR-ed', () => {
    const body = {
      filterGroups: [
        {
          filters: [
            { propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'example' },
            { propertyName: 'firstname', operator: 'EQ', value: 'cy' },
          ],
        },
        { filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'bob' }] },
      ],
    };
    assert.deepEqual(ids(contacts, people, body), ['2', '3']);
  });

  void test('datetimes compare with epoch-millisecond filter values', () => {
    const rows = [
      { dealname: 'old', closedate: '2023-01-01T00:00:00Z' },
      { dealname: 'new', closedate: '2025-06-01T00:00:00Z' },
    ];
    assert.deepEqual(ids(deals, rows, filter('closedate', 'GTE', String(Date.UTC(2024, 0, 1)))), ['2']);
  });

  void test('query matches a substring of the searchable properties', () => {
    assert.deepEqual(ids(contacts, people, { query: 'OTHER' }), ['2']);
  });
});

void describe('search sorting and paging', () => {
  const rows = Array.from({ length: 7 }, (_, i) => ({ dealname: `Deal ${i}`, amount: String((i * 37) % 11) }));

  void test('a leading minus and DESCENDING both sort highest first', () => {
    const objects = given(deals, rows);
    const amountsOf = (idList: string[]) => idList.map((id) => Number(objects.find((o) => o.id === id)?.properties.get('amount')));
    const byMinus = ids(deals, rows, { sorts: ['-amount'] });
    const byObject = ids(deals, rows, { sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }] });
    assert.deepEqual(amountsOf(byMinus), [9, 8, 5, 4, 2, 1, 0]);
    assert.deepEqual(byObject, byMinus);
    assert.deepEqual(amountsOf(ids(deals, rows, { sorts: ['amount'] })), [0, 1, 2, 4, 5, 8, 9]);
  });

  void test('only the first sort applies', () => {
    const tied = [
      { dealname: 'b', amount: '1' },
      { dealname: 'a', amount: '1' },
      { dealname: 'c', amount: '0' },
    ];
    // The second sort (dealname) would put 'a' before 'b'; HubSpot ignores it, ties keep id order.
    assert.deepEqual(ids(deals, tied, { sorts: ['-amount', 'dealname'] }), ['1', '2', '3']);
  });

  void test('after is an offset and paging.next.after appears only while results remain', () => {
    const objects = given(deals, rows);
    const first = searchObjects(deals, objects, parseSearchRequest({ limit: 3 }));
    assert.equal(first.total, 7);
    assert.equal(first.nextAfter, '3');
    const last = searchObjects(deals, objects, parseSearchRequest({ limit: 3, after: '6' }));
    assert.deepEqual(
      last.results.map((o) => o.id),
      ['7'],
    );
    assert.equal(last.nextAfter, undefined);
  });

  void test('limit defaults to 10 and is capped at 200', () => {
    assert.equal(parseSearchRequest({}).limit, 10);
    assert.equal(parseSearchRequest({ limit: 500 }).limit, 200);
  });
});

void describe('search request validation', () => {
  const group = (n: number) => ({ filters: Array.from({ length: n }, () => ({ propertyName: 'email', operator: 'HAS_PROPERTY' })) });

  void test('more than 5 groups, 6 filters in a group or 18 filters in all is refused', () => {
    assert.throws(() => parseSearchRequest({ filterGroups: Array.from({ length: 6 }, () => group(1)) }), SearchRequestError);
    assert.throws(() => parseSearchRequest({ filterGroups: [group(7)] }), SearchRequestError);
    assert.throws(() => parseSearchRequest({ filterGroups: [group(6), group(6), group(6), group(1)] }), SearchRequestError);
    assert.doesNotThrow(() => parseSearchRequest({ filterGroups: [group(6), group(6), group(6)] }));
  });

  void test('an unknown operator or a missing value is refused', () => {
    assert.throws(() => parseSearchRequest(filter('email', 'LIKE', 'x')), /unknown filter operator LIKE/);
    assert.throws(() => parseSearchRequest(filter('email', 'EQ')), /needs a value/);
  });
});

void describe('value comparison', () => {
  void test('numbers, datetimes and text each order naturally', () => {
    assert.ok(compareValues('9', '10') < 0);
    assert.ok(compareValues('2024-01-02T00:00:00Z', String(Date.UTC(2024, 0, 1))) > 0);
    assert.equal(compareValues('Alpha', 'alpha'), 0);
  });

  void test('containsToken needs the tokens in a row', () => {
    assert.equal(containsToken('New York City', 'york city'), true);
    assert.equal(containsToken('New York City', 'new city'), false);
  });
});
