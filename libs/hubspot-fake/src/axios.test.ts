/**
 * axios (v1), the other HTTP client custom code actions use, against the fake: the same wire
 * format, errors readable from `error.response`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import axios, { AxiosError } from 'axios';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-axios';

void describe('axios against the fake', () => {
  let fake: HubSpotFake;

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
  });
  after(() => fake.close());

  const api = () => axios.create({ baseURL: fake.url, headers: { Authorization: `Bearer ${TOKEN}` } });

  void test('creates a deal the way the JsWorkflows example does and reads it back', async () => {
    const created = await api().post('/crm/v3/objects/deals', {
      properties: { dealname: 'Order #1042', amount: 99.5, pipeline: 'default', dealstage: 'closedwon' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers['location'], `${fake.url}/crm/v3/objects/deals/${created.data.id}`);
    assert.equal(created.data.properties.amount, '99.5', 'numbers are stored as their text');

    const read = await api().get(`/crm/v3/objects/deals/${created.data.id}`, { params: { properties: 'dealname,dealstage', archived: false } });
    assert.equal(read.data.properties.dealname, 'Order #1042');
    assert.equal(read.data.properties.dealstage, 'closedwon');
    assert.equal(read.headers['x-hubspot-ratelimit-secondly'], '100');
  });

  void test('searches contacts with OR-ed filter groups and a sort', async () => {
    fake.seed('contacts', { email: 'x1@alpha.test', firstname: 'Xena', lastname: 'Alpha' });
    fake.seed('contacts', { email: 'x2@beta.test', firstname: 'Xavier', lastname: 'Beta' });
    fake.seed('contacts', { email: 'x3@gamma.test', firstname: 'Yuri' });
    const found = await api().post('/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@alpha.test' }] }, { filters: [{ propertyName: 'lastname', operator: 'EQ', value: 'beta' }] }],
      sorts: [{ propertyName: 'firstname', direction: 'DESCENDING' }],
      properties: ['firstname'],
    });
    assert.equal(found.data.total, 2);
    assert.deepEqual(
      found.data.results.map((r: { properties: { firstname: string } }) => r.properties.firstname),
      ['Xena', 'Xavier'],
    );
    assert.equal(found.headers['x-hubspot-ratelimit-secondly'], undefined, 'search answers carry no rate-limit headers');
  });

  void test('a 409 and a 401 come back as AxiosErrors with HubSpot bodies', async () => {
    await api().post('/crm/v3/objects/contacts', { properties: { email: 'taken@example.com' } });
    const conflict = await api()
      .post('/crm/v3/objects/contacts', { properties: { email: 'taken@example.com' } })
      .then(
        () => assert.fail('expected 409'),
        (error: unknown) => error,
      );
    assert.ok(conflict instanceof AxiosError);
    assert.equal(conflict.response?.status, 409);
    assert.equal(conflict.response?.data.category, 'CONFLICT');

    const unauthorized = await axios.get(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: 'Bearer pat-na1-wrong' } }).then(
      () => assert.fail('expected 401'),
      (error: unknown) => error,
    );
    assert.ok(unauthorized instanceof AxiosError);
    assert.equal(unauthorized.response?.status, 401);
    assert.equal(unauthorized.response?.headers['x-hubspot-auth-failure'], '401 Unauthorized');
  });
});
