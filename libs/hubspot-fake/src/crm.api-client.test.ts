/**
 * The real `@hubspot/api-client` (v13) against the fake over HTTP: what custom code actions do
 * with contacts, companies, deals and tickets, and the errors they get back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const READ_ONLY = 'pat-na1-read-only-contacts';
const OTHER_PORTAL = 'pat-eu1-other-portal';

interface ApiError {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  assert.fail('expected the call to fail');
}

void describe('CRM objects through @hubspot/api-client', () => {
  let fake: HubSpotFake;
  let client: Client;

  before(async () => {
    fake = await startHubSpotFake({
      portalId: 4242,
      accessTokens: {
        [TOKEN]: {},
        [READ_ONLY]: { scopes: ['crm.objects.contacts.read'] },
        [OTHER_PORTAL]: { portalId: 777 },
      },
    });
    client = new Client({ accessToken: TOKEN, basePath: fake.url });
  });
  after(() => fake.close());

  void test('the seed example reads email and phone of the enrolled contact with getById', async () => {
    const seeded = fake.seed('contacts', { email: 'bcooper@biglytics.net', phone: '(877) 929-0687', firstname: 'Bryan' });
    const event = { object: { objectType: 'CONTACT', objectId: Number(seeded.id) } };

    const contact = await client.crm.contacts.basicApi.getById(String(event.object.objectId), ['email', 'phone']);

    assert.equal(contact.id, seeded.id);
    assert.equal(contact.properties['email'], 'bcooper@biglytics.net');
    assert.equal(contact.properties['phone'], '(877) 929-0687');
    // Only what was asked for, plus the three HubSpot always adds.
    assert.deepEqual(Object.keys(contact.properties), ['createdate', 'email', 'hs_object_id', 'lastmodifieddate', 'phone']);
    assert.equal(contact.properties['hs_object_id'], seeded.id);
    assert.ok(contact.createdAt instanceof Date);
    assert.equal(contact.archived, false);
    const logged = fake.requests.at(-1);
    assert.equal(logged?.path, `/crm/v3/objects/contacts/${seeded.id}`);
    assert.equal(logged?.token, TOKEN);
    assert.equal(logged?.portalId, 4242);
  });

  void test('a read without properties returns the default properties, unset ones as null', async () => {
    const seeded = fake.seed('contacts', { email: 'defaults@example.com', jobtitle: 'CTO' });
    const contact = await client.crm.contacts.basicApi.getById(seeded.id);
    assert.deepEqual(contact.properties, {
      createdate: seeded.properties['createdate'],
      email: 'defaults@example.com',
      firstname: null,
      hs_object_id: seeded.id,
      lastmodifieddate: seeded.properties['lastmodifieddate'],
      lastname: null,
    });
  });

  void test('a contact is created with 201, updated, found by search and archived', async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'Ada@Example.com', firstname: 'Ada', lastname: 'Lovelace', hs_lead_status: 'NEW' },
      associations: [],
    });
    assert.match(created.id, /^\d+$/);
    assert.equal(created.properties['email'], 'Ada@Example.com');
    assert.equal(fake.requests.at(-1)?.status, 201);

    const updated = await client.crm.contacts.basicApi.update(created.id, { properties: { hs_lead_status: 'OPEN', lastname: '' } });
    assert.equal(updated.properties['hs_lead_status'], 'OPEN');
    assert.equal(updated.properties['lastname'], undefined, 'an empty string clears the value');
    assert.ok(updated.updatedAt.getTime() >= created.updatedAt.getTime());
    assert.equal(fake.get('contacts', created.id, { portalId: 4242 })?.properties['hs_lead_status'], 'OPEN');

    const found = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: FilterOperatorEnum.Eq, value: 'ada@example.com' }] }],
      properties: ['email', 'hs_lead_status'],
      limit: 10,
      after: '0',
      sorts: [],
    });
    assert.equal(found.total, 1);
    assert.equal(found.results[0]?.id, created.id);
    assert.equal(found.results[0]?.properties['hs_lead_status'], 'OPEN');

    await client.crm.contacts.basicApi.archive(created.id);
    assert.equal(fake.requests.at(-1)?.status, 204);
    const gone = await rejection(client.crm.contacts.basicApi.getById(created.id));
    assert.equal(gone.code, 404);
    assert.equal(gone.body['message'], 'resource not found');
    const archived = await client.crm.contacts.basicApi.getById(created.id, undefined, undefined, undefined, true);
    assert.equal(archived.archived, true);
    assert.ok(archived.archivedAt instanceof Date);
  });

  void test('a second contact with the same email is refused with 409 CONFLICT naming the existing id', async () => {
    const first = await client.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' }, associations: [] });
    const error = await rejection(client.crm.contacts.basicApi.create({ properties: { email: 'DUP@example.com' }, associations: [] }));
    assert.equal(error.code, 409);
    assert.equal(error.body['category'], 'CONFLICT');
    assert.equal(error.body['message'], `Contact already exists. Existing ID: ${first.id}`);
    assert.equal(typeof error.body['correlationId'], 'string');
  });

  void test('companies, deals and tickets are created, updated and searched with their own default properties', async () => {
    const company = await client.crm.companies.basicApi.create({ properties: { name: 'Biglytics', domain: 'biglytics.net', city: 'Cambridge' }, associations: [] });
    assert.equal(company.properties['name'], 'Biglytics');
    assert.ok(company.properties['hs_lastmodifieddate'], 'companies carry hs_lastmodifieddate');
    const readCompany = await client.crm.companies.basicApi.getById(company.id);
    assert.deepEqual(Object.keys(readCompany.properties), ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name']);

    // A deal without a dealname is fine at HubSpot; the fake does not invent rules.
    const bare = await client.crm.deals.basicApi.create({ properties: { amount: '10' }, associations: [] });
    assert.equal(bare.properties['amount'], '10');
    const deal = await client.crm.deals.basicApi.create({
      properties: { dealname: 'Order #1001', amount: '1250.50', pipeline: 'default', dealstage: 'closedwon', closedate: '1700000000000' },
      associations: [],
    });
    assert.equal(deal.properties['closedate'], '2023-11-14T22:13:20Z', 'epoch ms become an ISO instant');
    const moved = await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'contractsent' } });
    assert.equal(moved.properties['dealstage'], 'contractsent');
    const bigDeals = await client.crm.deals.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'amount', operator: FilterOperatorEnum.Gt, value: '1000' }] }],
      properties: ['dealname', 'amount'],
      sorts: ['-amount'],
      limit: 10,
      after: '0',
    });
    assert.deepEqual(
      bigDeals.results.map((d) => d.id),
      [deal.id],
    );

    const ticket = await client.crm.tickets.basicApi.create({
      properties: { subject: 'Printer on fire', content: 'It is on fire', hs_pipeline: '0', hs_pipeline_stage: '1', hs_ticket_priority: 'HIGH' },
      associations: [],
    });
    const readTicket = await client.crm.tickets.basicApi.getById(ticket.id);
    assert.equal(readTicket.properties['subject'], 'Printer on fire');
    assert.equal(readTicket.properties['hs_ticket_category'], null);
    const tickets = await client.crm.tickets.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'subject', operator: FilterOperatorEnum.ContainsToken, value: 'fire' }] }],
      properties: ['subject'],
      sorts: [],
      limit: 5,
      after: '0',
    });
    assert.equal(tickets.total, 1);
    assert.equal(tickets.results[0]?.properties['subject'], 'Printer on fire');
  });

  void test('list pages with limit and after until paging is absent', async () => {
    for (let i = 0; i < 5; i++) fake.seed('companies', { name: `Paged ${i}` }, { portalId: 777 });
    const other = new Client({ accessToken: OTHER_PORTAL, basePath: fake.url });
    const first = await other.crm.companies.basicApi.getPage(2, undefined, ['name']);
    assert.deepEqual(
      first.results.map((c) => c.properties['name']),
      ['Paged 0', 'Paged 1'],
    );
    const cursor = first.paging?.next?.after;
    assert.ok(cursor);
    assert.ok(first.paging?.next?.link?.startsWith(fake.url));
    const second = await other.crm.companies.basicApi.getPage(2, cursor, ['name']);
    assert.deepEqual(
      second.results.map((c) => c.properties['name']),
      ['Paged 2', 'Paged 3'],
    );
    const third = await other.crm.companies.basicApi.getPage(2, second.paging?.next?.after, ['name']);
    assert.deepEqual(
      third.results.map((c) => c.properties['name']),
      ['Paged 4'],
    );
    assert.equal(third.paging, undefined);
  });

  void test('batch read returns the records asked for, and 207 with OBJECT_NOT_FOUND for missing ids', async () => {
    const a = fake.seed('contacts', { email: 'batch-a@example.com' });
    const b = fake.seed('contacts', { email: 'batch-b@example.com' });
    const all = await client.crm.contacts.batchApi.read({ inputs: [{ id: a.id }, { id: b.id }], properties: ['email'], propertiesWithHistory: [] });
    assert.equal(all.status, 'COMPLETE');
    assert.deepEqual(all.results.map((r) => r.properties['email']).sort(), ['batch-a@example.com', 'batch-b@example.com']);
    const partial = await client.crm.contacts.batchApi.read({ inputs: [{ id: a.id }, { id: '999999' }], properties: ['email'], propertiesWithHistory: [] });
    assert.deepEqual(
      partial.results.map((r) => r.id),
      [a.id],
    );
    assert.ok('errors' in partial);
    assert.equal(partial.numErrors, 1);
    assert.equal(partial.errors?.[0]?.category, 'OBJECT_NOT_FOUND');
    assert.deepEqual(partial.errors?.[0]?.context, { ids: ['999999'] });
    assert.equal(fake.requests.at(-1)?.status, 207);
  });

  void test('portals do not see each other’s records', async () => {
    const mine = fake.seed('deals', { dealname: 'Portal 4242 deal' });
    const other = new Client({ accessToken: OTHER_PORTAL, basePath: fake.url });
    const error = await rejection(other.crm.deals.basicApi.getById(mine.id));
    assert.equal(error.code, 404);
  });

  void test('the generic objects API accepts the 0-1 object type id for contacts', async () => {
    const seeded = fake.seed('contacts', { email: 'typeid@example.com' });
    const object = await client.crm.objects.basicApi.getById('0-1', seeded.id, ['email']);
    assert.equal(object.properties['email'], 'typeid@example.com');
  });

  void test('a token without the write scope gets 403 MISSING_SCOPES and can still read', async () => {
    const readOnly = new Client({ accessToken: READ_ONLY, basePath: fake.url });
    const seeded = fake.seed('contacts', { email: 'scoped@example.com' });
    assert.equal((await readOnly.crm.contacts.basicApi.getById(seeded.id, ['email'])).properties['email'], 'scoped@example.com');
    const write = await rejection(readOnly.crm.contacts.basicApi.update(seeded.id, { properties: { firstname: 'No' } }));
    assert.equal(write.code, 403);
    assert.equal(write.body['category'], 'MISSING_SCOPES');
    assert.deepEqual(write.body['errors'], [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.contacts.write'] } }]);
    const deals = await rejection(readOnly.crm.deals.basicApi.getPage());
    assert.equal(deals.code, 403);
  });

  void test('an unknown token gets 401 INVALID_AUTHENTICATION', async () => {
    const stranger = new Client({ accessToken: 'pat-na1-nobody', basePath: fake.url });
    const error = await rejection(stranger.crm.contacts.basicApi.getPage());
    assert.equal(error.code, 401);
    assert.equal(error.body['category'], 'INVALID_AUTHENTICATION');
    assert.match(String(error.body['message']), /^Authentication credentials not found\./);
  });

  void test('an expired access token gets 401 EXPIRED_AUTHENTICATION saying how long ago', async () => {
    const { accessToken } = fake.issueAccessToken({ portalId: 4242 });
    const oauthClient = new Client({ accessToken, basePath: fake.url });
    await oauthClient.crm.contacts.basicApi.getPage(1);
    assert.equal(fake.expireAccessToken(accessToken), true);
    const error = await rejection(oauthClient.crm.contacts.basicApi.getPage(1));
    assert.equal(error.code, 401);
    assert.equal(error.body['category'], 'EXPIRED_AUTHENTICATION');
    assert.match(String(error.body['message']), /^The OAuth token used to make this call expired \d+ second\(s\) ago\.$/);
  });

  void test('an invalid email is a 400 VALIDATION_ERROR listing the property', async () => {
    const error = await rejection(client.crm.contacts.basicApi.create({ properties: { email: 'not-an-email' }, associations: [] }));
    assert.equal(error.code, 400);
    assert.equal(error.body['category'], 'VALIDATION_ERROR');
    assert.match(String(error.body['message']), /^Property values were not valid: /);
    assert.deepEqual(error.body['errors'], [{ message: 'Email address not-an-email is invalid', code: 'INVALID_EMAIL', context: { propertyName: ['email'] } }]);
  });

  void test('a non-numeric id is 404 OBJECT_NOT_FOUND and a contact can be read by email with idProperty', async () => {
    const notNumeric = await rejection(client.crm.contacts.basicApi.getById('abc'));
    assert.equal(notNumeric.code, 404);
    assert.equal(notNumeric.body['category'], 'OBJECT_NOT_FOUND');
    const seeded = fake.seed('contacts', { email: 'by-email@example.com' });
    const byEmail = await client.crm.contacts.basicApi.getById('by-email@example.com', ['email'], undefined, undefined, false, 'email');
    assert.equal(byEmail.id, seeded.id);
  });

  void test('an object type HubSpot does not know is a 400', async () => {
    const response = await fetch(`${fake.url}/crm/v3/objects/widgets`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 400);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['message'], 'Unable to infer object type from: widgets');
  });

  void test('malformed JSON is a 400 that says where the parse failed', async () => {
    const response = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: '{"properties": {"email": }}',
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('content-type'), 'application/json;charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['status'], 'error');
    assert.equal(body['category'], 'VALIDATION_ERROR');
    assert.equal(body['message'], "Invalid input JSON on line 1, column 26: Unexpected character ('}' (code 125)): expected a value");
    assert.equal(body['correlationId'], response.headers.get('x-hubspot-correlation-id'));
  });
});
