/**
 * The new areas' edges over plain HTTP: errors in HubSpot's envelope, scopes, paging, drafts,
 * portals kept apart, and `reset()` clearing them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-edges';
const OTHER = 'pat-na1-other-portal';
const NOTES_ONLY = 'pat-na1-deals-read';

void describe('edges of the areas beyond single records', () => {
  let fake: HubSpotFake;
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(fake.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined, headers: res.headers };
  };

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {}, [OTHER]: { portalId: 999 }, [NOTES_ONLY]: { scopes: ['crm.objects.deals.read'] } } });
  });
  after(() => fake.close());

  test('batch update answers 207 naming missing ids and updates the others; batch create refuses a duplicate email in one batch', async () => {
    const c = fake.seed('contacts', { email: 'bu@example.com' });
    const r = await call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [
        { id: c.id, properties: { firstname: 'B' } },
        { id: '424242', properties: { firstname: 'X' } },
      ],
    });
    assert.equal(r.status, 207);
    assert.deepEqual(r.body.errors[0].context.ids, ['424242']);
    assert.equal(fake.get('contacts', c.id)?.properties['firstname'], 'B');
    const dup = await call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: [{ properties: { email: 'd@example.com' } }, { properties: { email: 'D@example.com' } }] });
    assert.equal(dup.status, 400);
    assert.equal(dup.body.category, 'VALIDATION_ERROR');
    assert.equal(fake.list('contacts').filter((x) => x.properties['email']?.toLowerCase() === 'd@example.com').length, 0);
    const tooMany = await call('POST', '/crm/v3/objects/deals/batch/create', { inputs: Array.from({ length: 101 }, () => ({ properties: {} })) });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /exceeds the limit of 100/);
    const malformed = await call('POST', '/crm/v3/objects/deals/batch/archive', '{"inputs": [');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /^Invalid input JSON on line 1/);
  });

  test('merge and GDPR delete refuse what HubSpot refuses', async () => {
    const c = fake.seed('contacts', { email: 'mg@example.com' });
    assert.equal((await call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: c.id, objectIdToMerge: c.id })).status, 400);
    assert.equal((await call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: c.id, objectIdToMerge: '987654' })).status, 404);
    assert.equal((await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: '987654' })).status, 404);
    assert.equal((await call('POST', '/crm/v3/objects/contacts/gdpr-delete', {})).status, 400);
  });

  test('scopes: a token with a scope list gets 403 MISSING_SCOPES on the new routes it lacks', async () => {
    const r = await call('POST', '/crm/v3/objects/deals/batch/create', { inputs: [] }, NOTES_ONLY);
    assert.equal(r.status, 403);
    assert.equal(r.body.category, 'MISSING_SCOPES');
    const owners = await call('GET', '/crm/v3/owners', undefined, NOTES_ONLY);
    assert.equal(owners.status, 403);
    const deal = fake.seed('deals', { dealname: 'S' });
    assert.equal((await call('GET', `/crm/v4/objects/deals/${deal.id}/associations/contacts`, undefined, NOTES_ONLY)).status, 200);
    assert.equal((await call('PUT', `/crm/v4/objects/deals/${deal.id}/associations/default/contacts/1`, undefined, NOTES_ONLY)).status, 403);
  });

  test('portals are apart: another portal sees none of the owners, records, associations or tables', async () => {
    fake.seedOwner({ id: 1234, email: 'portal@example.com' });
    fake.seedHubDbTable({ name: 'private_table', rows: [{ a: 1 }] });
    const other = await call('GET', '/crm/v3/owners', undefined, OTHER);
    assert.deepEqual(other.body.results, []);
    assert.equal((await call('GET', '/cms/v3/hubdb/tables/private_table/rows', undefined, OTHER)).status, 404);
    const c = fake.seed('contacts', { email: 'p@example.com' });
    assert.equal((await call('GET', `/crm/v4/objects/contacts/${c.id}/associations/companies`, undefined, OTHER)).status, 404);
  });

  test('owners page with after; pipelines and stages 404 for unknown ids; a pipeline needs stages', async () => {
    for (let i = 0; i < 3; i++) fake.seedOwner({ email: `o${i}@paging.example.com` });
    const first = await call('GET', '/crm/v3/owners?limit=2');
    assert.equal(first.body.results.length, 2);
    const next = await call('GET', `/crm/v3/owners?limit=2&after=${first.body.paging.next.after}`);
    assert.ok(next.body.results.length >= 1);
    assert.notEqual(next.body.results[0].id, first.body.results[0].id);
    assert.equal((await call('GET', '/crm/v3/owners?limit=0')).status, 400);
    assert.equal((await call('GET', '/crm/v3/pipelines/deals/nope')).status, 404);
    assert.equal((await call('GET', '/crm/v3/pipelines/deals/default/stages/nope')).status, 404);
    assert.equal((await call('GET', '/crm/v3/pipelines/tickets/0/stages/4')).body.metadata.ticketState, 'CLOSED');
    assert.equal((await call('POST', '/crm/v3/pipelines/deals', { label: 'Empty', stages: [] })).status, 400);
    assert.equal((await call('GET', '/crm/v3/pipelines/widgets')).status, 400);
  });

  test('HubDB: draft edits and deletes show only after publishing; unknown tables are 404', async () => {
    fake.seedHubDbTable({
      name: 'prices',
      columns: [{ name: 'sku' }, { name: 'price', type: 'NUMBER' }],
      rows: [
        { sku: 'A', price: 10 },
        { sku: 'B', price: 20 },
      ],
    });
    const draft = await call('GET', '/cms/v3/hubdb/tables/prices/rows/draft?price__gt=15');
    assert.deepEqual(
      draft.body.results.map((r: { values: { sku: string } }) => r.values.sku),
      ['B'],
    );
    const rowId = draft.body.results[0].id as string;
    assert.equal((await call('PATCH', `/cms/v3/hubdb/tables/prices/rows/${rowId}/draft`, { values: { price: 25 } })).body.values.price, 25);
    const a = (await call('GET', '/cms/v3/hubdb/tables/prices/rows?sku=A')).body.results[0].id as string;
    assert.equal((await call('DELETE', `/cms/v3/hubdb/tables/prices/rows/${a}/draft`)).status, 204);
    assert.equal((await call('GET', `/cms/v3/hubdb/tables/prices/rows/${rowId}`)).body.values.price, 20, 'published is unchanged');
    await call('POST', '/cms/v3/hubdb/tables/prices/draft/publish');
    assert.deepEqual(
      (await call('GET', '/cms/v3/hubdb/tables/prices/rows?sort=-price')).body.results.map((r: { values: { price: number } }) => r.values.price),
      [25],
    );
    assert.equal((await call('GET', '/cms/v3/hubdb/tables/nope/rows')).status, 404);
  });

  test('engagements v1: update, associate, delete; v1 contacts: batch by vid and delete', async () => {
    const company = fake.seed('companies', { name: 'Eng' });
    const created = await call('POST', '/engagements/v1/engagements', {
      engagement: { type: 'MEETING', timestamp: 1700000000000 },
      metadata: { title: 'Kick-off', startTime: 1700000000000, endTime: 1700003600000 },
    });
    const id = created.body.engagement.id as number;
    assert.equal(created.body.metadata.startTime, 1700000000000);
    assert.equal((await call('PATCH', `/engagements/v1/engagements/${id}`, { metadata: { title: 'Kick-off (moved)' } })).body.metadata.title, 'Kick-off (moved)');
    assert.equal((await call('PUT', `/engagements/v1/engagements/${id}/associations/COMPANY/${company.id}`)).status, 204);
    assert.deepEqual(fake.associatedIds({ objectType: 'meetings', id: String(id) }, 'companies'), [company.id]);
    assert.equal((await call('PUT', `/engagements/v1/engagements/${id}/associations/COMPANY/31337`)).status, 400);
    assert.equal((await call('DELETE', `/engagements/v1/engagements/${id}`)).status, 204);
    assert.equal((await call('GET', `/engagements/v1/engagements/${id}`)).status, 404);
    const bad = await call('POST', '/engagements/v1/engagements', { engagement: { type: 'FAX' } });
    assert.equal(bad.status, 400);
    const a = fake.seed('contacts', { email: 'v1a@example.com' });
    const batch = await call('GET', `/contacts/v1/contact/vids/batch?vid=${a.id}&vid=777777`);
    assert.deepEqual(Object.keys(batch.body), [a.id]);
    const del = await call('DELETE', `/contacts/v1/contact/vid/${a.id}`);
    assert.deepEqual(del.body, { vid: Number(a.id), deleted: true, reason: 'OK' });
    assert.equal(fake.get('contacts', a.id)?.archived, true);
  });

  test('custom objects: a duplicate or badly named schema is a 400; an undefined type is a 400 on objects', async () => {
    assert.equal((await call('POST', '/crm/v3/schemas', { name: 'pets', properties: [{ name: 'pet_name' }] })).status, 201);
    assert.equal((await call('POST', '/crm/v3/schemas', { name: 'pets', properties: [{ name: 'pet_name' }] })).status, 400);
    assert.equal((await call('POST', '/crm/v3/schemas', { name: '9lives', properties: [{ name: 'x' }] })).status, 400);
    assert.equal((await call('POST', '/crm/v3/schemas', { name: 'contacts', properties: [{ name: 'x' }] })).status, 400);
    assert.equal((await call('GET', '/crm/v3/objects/p_unicorns')).status, 400);
    assert.equal((await call('GET', '/crm/v3/objects/p_pets', undefined, OTHER)).status, 400, 'schemas belong to a portal');
  });

  test('communication preferences: bad email and unknown subscription are 400s', async () => {
    assert.equal((await call('POST', '/communication-preferences/v3/subscribe', { emailAddress: 'nope', subscriptionId: '101' })).status, 400);
    const unknown = await call('POST', '/communication-preferences/v3/unsubscribe', { emailAddress: 'a@example.com', subscriptionId: '999' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /999/);
    const never = await call('POST', '/communication-preferences/v3/unsubscribe', { emailAddress: 'a@example.com', subscriptionId: '101' });
    assert.equal(never.status, 400);
  });

  test('reset() clears owners, schemas, associations, tables and subscriptions', async () => {
    const c = fake.seed('contacts', { email: 'r@example.com' });
    const co = fake.seed('companies', { name: 'R' });
    fake.associate({ objectType: 'contacts', id: c.id }, { objectType: 'companies', id: co.id });
    fake.reset();
    assert.deepEqual((await call('GET', '/crm/v3/owners')).body.results, []);
    assert.deepEqual((await call('GET', '/crm/v3/schemas')).body.results, []);
    assert.equal((await call('GET', '/cms/v3/hubdb/tables')).body.total, 0);
    assert.deepEqual(fake.associatedIds({ objectType: 'contacts', id: c.id }, 'companies'), []);
  });
});
