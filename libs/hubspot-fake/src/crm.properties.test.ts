import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatInstant, normalizeWrite, parseDatetime, propertiesView, requestedProperties } from './crm.properties.ts';
import { resolveObjectType, type ObjectTypeSpec } from './object-types.ts';

const contacts = resolveObjectType('contacts') as ObjectTypeSpec;
const lenient = { strict: false, customProperties: new Set<string>() };

void describe('property values', () => {
  void test('instants print like Java Instant: no fraction when the milliseconds are zero', () => {
    assert.equal(formatInstant(Date.UTC(2024, 4, 1, 10)), '2024-05-01T10:00:00Z');
    assert.equal(formatInstant(Date.UTC(2024, 4, 1, 10, 0, 0, 123)), '2024-05-01T10:00:00.123Z');
  });

  void test('datetimes are read from epoch milliseconds or ISO 8601, and nothing else', () => {
    assert.equal(parseDatetime('1700000000000'), 1700000000000);
    assert.equal(parseDatetime('2024-01-01T00:00:00+01:00'), Date.UTC(2023, 11, 31, 23));
    assert.equal(parseDatetime('next tuesday'), undefined);
  });

  void test('numbers and booleans are stored as text, empty string and null clear', () => {
    const written = normalizeWrite(contacts, { numemployees: 12, hs_is_vip: true, phone: '', fax: null }, lenient);
    assert.ok(written.ok);
    assert.deepEqual(
      [...written.values],
      [
        ['numemployees', '12'],
        ['hs_is_vip', 'true'],
        ['phone', null],
        ['fax', null],
      ],
    );
  });

  void test('every bad property is reported at once', () => {
    const written = normalizeWrite(contacts, { email: 'nope', hs_object_id: '5', lastmodifieddate: '1', createdate: 'soon' }, lenient);
    assert.ok(!written.ok && 'problems' in written);
    assert.deepEqual(
      written.problems.map((p) => [p.name, p.code]),
      [
        ['email', 'INVALID_EMAIL'],
        ['hs_object_id', 'READ_ONLY_VALUE'],
        ['lastmodifieddate', 'READ_ONLY_VALUE'],
        ['createdate', 'INVALID_LONG'],
      ],
    );
  });

  void test('strict mode refuses properties the portal does not define, unless declared custom', () => {
    const strict = normalizeWrite(contacts, { favourite_colour: 'teal' }, { strict: true, customProperties: new Set() });
    assert.ok(!strict.ok && 'problems' in strict);
    assert.equal(strict.problems[0]?.message, 'Property "favourite_colour" does not exist');
    const custom = normalizeWrite(contacts, { favourite_colour: 'teal' }, { strict: true, customProperties: new Set(['favourite_colour']) });
    assert.ok(custom.ok);
  });

  void test('a read returns what was asked plus createdate, hs_object_id and the last-modified date', () => {
    const stored = new Map([
      ['email', 'a@b.co'],
      ['hs_object_id', '7'],
      ['createdate', 'c'],
      ['lastmodifieddate', 'm'],
      ['jobtitle', 'CTO'],
    ]);
    assert.deepEqual(propertiesView(contacts, stored, ['phone', 'email']), {
      createdate: 'c',
      email: 'a@b.co',
      hs_object_id: '7',
      lastmodifieddate: 'm',
      phone: null,
    });
    assert.deepEqual(
      propertiesView(contacts, stored, ['nonsense'], (n) => n !== 'nonsense'),
      { createdate: 'c', hs_object_id: '7', lastmodifieddate: 'm' },
    );
  });

  void test('properties may be comma-separated or repeated in the query', () => {
    assert.deepEqual(requestedProperties(['email,phone', 'firstname']), ['email', 'phone', 'firstname']);
    assert.equal(requestedProperties([]), undefined);
  });
});
