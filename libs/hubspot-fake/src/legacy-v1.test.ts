/**
 * The legacy v1 endpoints custom code still calls, with axios and fetch as that code does:
 * engagements (stored as v3 activities, same ids) and contact profiles / createOrUpdate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import axios, { type AxiosInstance } from 'axios';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-legacy';

void describe('legacy v1 engagements and contacts', () => {
  let fake: HubSpotFake;
  let http: AxiosInstance;

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
    http = axios.create({ baseURL: fake.url, headers: { Authorization: `Bearer ${TOKEN}` }, validateStatus: () => true });
  });
  after(() => fake.close());

  test('POST /engagements/v1/engagements creates a NOTE that v3 reads as a note associated with the contact', async () => {
    const contact = fake.seed('contacts', { email: 'e1@example.com' });
    const deal = fake.seed('deals', { dealname: 'E' });
    const res = await http.post('/engagements/v1/engagements', {
      engagement: { active: true, type: 'NOTE', timestamp: 1735689600000, ownerId: 501 },
      associations: { contactIds: [Number(contact.id)], dealIds: [Number(deal.id)] },
      metadata: { body: 'Renewal call booked' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.data));
    const id = String(res.data.engagement.id);
    assert.equal(res.data.engagement.type, 'NOTE');
    assert.equal(res.data.engagement.timestamp, 1735689600000);
    assert.deepEqual(res.data.associations.contactIds, [Number(contact.id)]);
    assert.equal(res.data.metadata.body, 'Renewal call booked');
    const note = fake.get('notes', id);
    assert.equal(note?.properties['hs_note_body'], 'Renewal call booked');
    assert.equal(note?.properties['hubspot_owner_id'], '501');
    assert.equal(note?.properties['hs_timestamp'], '2025-01-01T00:00:00Z');
    assert.deepEqual(fake.associatedIds({ objectType: 'contacts', id: contact.id }, 'notes'), [id]);
    const listed = await http.get(`/engagements/v1/engagements/associated/CONTACT/${contact.id}/paged`);
    assert.deepEqual(
      listed.data.results.map((r: { engagement: { id: number } }) => String(r.engagement.id)),
      [id],
    );
    assert.equal(listed.data.hasMore, false);
  });

  test('a TASK and a CALL keep their metadata; a bad association is a 400 and creates nothing', async () => {
    const contact = fake.seed('contacts', { email: 'e2@example.com' });
    const task = await http.post('/engagements/v1/engagements', {
      engagement: { type: 'TASK' },
      associations: { contactIds: [contact.id] },
      metadata: { subject: 'Follow up', body: 'Send the quote', status: 'NOT_STARTED', taskType: 'EMAIL' },
    });
    assert.equal(task.status, 200);
    const got = await http.get(`/engagements/v1/engagements/${task.data.engagement.id}`);
    assert.deepEqual(got.data.metadata, { body: 'Send the quote', subject: 'Follow up', status: 'NOT_STARTED', taskType: 'EMAIL' });
    const call = await http.post('/engagements/v1/engagements', { engagement: { type: 'CALL' }, metadata: { toNumber: '+15550100', durationMilliseconds: 60000, status: 'COMPLETED' } });
    assert.equal(call.data.metadata.durationMilliseconds, 60000);
    assert.equal(fake.get('calls', String(call.data.engagement.id))?.properties['hs_call_duration'], '60000');
    const before = fake.list('notes').length;
    const bad = await http.post('/engagements/v1/engagements', { engagement: { type: 'NOTE' }, associations: { contactIds: [987654] }, metadata: { body: 'x' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.data.status, 'error');
    assert.equal(fake.list('notes').length, before);
    const unknown = await http.get('/engagements/v1/engagements/123456789');
    assert.equal(unknown.status, 404);
  });

  test('contact profiles by vid and by email, v1 shape with versions and epoch-millisecond dates', async () => {
    const contact = fake.seed('contacts', { email: 'v1@example.com', firstname: 'Vi', createdate: '2024-05-01T10:00:00Z' });
    const byVid = await fetch(`${fake.url}/contacts/v1/contact/vid/${contact.id}/profile`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const profile = (await byVid.json()) as Record<string, any>;
    assert.equal(profile['vid'], Number(contact.id));
    assert.equal(profile['canonical-vid'], Number(contact.id));
    assert.equal(profile['properties'].firstname.value, 'Vi');
    assert.equal(profile['properties'].createdate.value, String(Date.parse('2024-05-01T10:00:00Z')));
    assert.equal(profile['identity-profiles'][0].identities[0].value, 'v1@example.com');
    const byEmail = await http.get('/contacts/v1/contact/email/V1@example.com/profile');
    assert.equal(byEmail.data.vid, Number(contact.id));
    const missing = await http.get('/contacts/v1/contact/email/nobody@example.com/profile');
    assert.equal(missing.status, 404);
    assert.equal(missing.data.message, 'contact does not exist');
  });

  test('createOrUpdate creates then updates by email; POST /contact refuses a duplicate with CONTACT_EXISTS', async () => {
    const first = await http.post('/contacts/v1/contact/createOrUpdate/email/cu@example.com', { properties: [{ property: 'firstname', value: 'Cu' }] });
    assert.deepEqual(Object.keys(first.data).sort(), ['isNew', 'vid']);
    assert.equal(first.data.isNew, true);
    const second = await http.post('/contacts/v1/contact/createOrUpdate/email/cu@example.com', { properties: [{ property: 'lifecyclestage', value: 'lead' }] });
    assert.equal(second.data.isNew, false);
    assert.equal(second.data.vid, first.data.vid);
    assert.equal(fake.get('contacts', String(first.data.vid))?.properties['lifecyclestage'], 'lead');
    const dup = await http.post('/contacts/v1/contact', { properties: [{ property: 'email', value: 'cu@example.com' }] });
    assert.equal(dup.status, 409);
    assert.equal(dup.data.error, 'CONTACT_EXISTS');
    assert.equal(dup.data.identityProfile.vid, first.data.vid);
    const update = await http.post(`/contacts/v1/contact/vid/${first.data.vid}/profile`, { properties: [{ property: 'phone', value: '555-0101' }] });
    assert.equal(update.status, 204);
    const bad = await http.post('/contacts/v1/contact/createOrUpdate/email/x@example.com', { properties: [{ property: 'email', value: 'not-an-email' }] });
    assert.equal(bad.status, 400);
  });

  test('the new routes need a token and count against the secondly limit', async () => {
    const anon = await axios.get(`${fake.url}/crm/v3/owners`, { validateStatus: () => true });
    assert.equal(anon.status, 401);
    const v1 = await axios.get(`${fake.url}/contacts/v1/contact/vid/1/profile`, { validateStatus: () => true });
    assert.equal(v1.status, 401);
    const owners = await http.get('/crm/v3/owners');
    assert.ok(owners.headers['x-hubspot-ratelimit-secondly-remaining'] !== undefined);
  });
});
