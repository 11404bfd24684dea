import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseFromUri, indexFor, newestPerId, toMongoQuery } from './mongo.store.ts';

void describe('MongoDB store mapping', () => {
  void it('indexes declared fields under d., ending non-unique indexes with _id for ordered reads', () => {
    assert.deepEqual(indexFor({ fields: ['tenantId', 'n'] }), { key: { 'd.tenantId': 1, 'd.n': 1, _id: 1 }, name: 'by_tenantId_n', unique: false });
    assert.deepEqual(indexFor({ fields: ['email'], unique: true }), { key: { 'd.email': 1 }, name: 'by_email_unique', unique: true });
  });

  void it('turns equality and order into a filter on d. fields with id as the tie-break', () => {
    assert.deepEqual(toMongoQuery({ where: { tenantId: 't', gone: null }, orderBy: { field: 'n', direction: 'desc' } }), {
      filter: { 'd.tenantId': 't', 'd.gone': null },
      sort: { 'd.n': -1, _id: -1 },
    });
    assert.deepEqual(toMongoQuery({}), { filter: {}, sort: undefined });
  });

  void it('turns a range into bounds on its d. field that a missing field never meets', () => {
    assert.deepEqual(toMongoQuery({ where: { tenantId: 't' }, range: { field: 'at', gte: 10, lt: 20 } }).filter, { 'd.tenantId': 't', 'd.at': { $exists: true, $ne: null, $gte: 10, $lt: 20 } });
    assert.deepEqual(toMongoQuery({ range: { field: 'at', lt: 'm' } }).filter, { 'd.at': { $exists: true, $ne: null, $lt: 'm' } });
    assert.throws(() => toMongoQuery({ range: { field: 'a.b', gte: 1 } }), { code: 'INVALID_ARGUMENT' });
  });

  void it('refuses field names that could smuggle an operator or a path into a query', () => {
    assert.throws(() => toMongoQuery({ where: { $where: 'x' } }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => toMongoQuery({ where: { 'a.b': 1 } }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => indexFor({ fields: ['$x'] }), { code: 'INVALID_ARGUMENT' });
  });

  void it('keeps one write per id in a batch: the highest version, the first of equal ones', () => {
    const kept = newestPerId([
      { id: 'a', version: 3, doc: 'a3' },
      { id: 'a', version: 5, doc: 'a5' },
      { id: 'b', version: 1, doc: 'b1' },
      { id: 'a', version: 5, doc: 'a5 again' },
      { id: 'a', version: 4, doc: 'a4' },
    ]);
    assert.deepEqual(
      kept.map((w) => w.doc),
      ['a5', 'b1'],
    );
  });

  void it('reads the database from the URI path, if there is one', () => {
    assert.equal(databaseFromUri('mongodb://127.0.0.1:27018/codestep?directConnection=true'), 'codestep');
    assert.equal(databaseFromUri('mongodb://h1:1,h2:2/db'), 'db');
    assert.equal(databaseFromUri('mongodb+srv://user:pw@cluster.example.net/'), undefined);
    assert.equal(databaseFromUri('mongodb://127.0.0.1:27018'), undefined);
  });
});
