/**
 * The areas beyond single records, through the real api-client 10 and 13: batch
 * create/update/upsert/archive, merge, GDPR delete, owners, pipelines, `propertiesWithHistory`,
 * line items, custom objects, HubDB rows and communication preferences.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@hubspot/api-client';
import { Client as ClientV10 } from '@hubspot/api-client-v10';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-areas';

void describe('CRM areas through @hubspot/api-client 10 and 13', () => {
  let fake: HubSpotFake;
  let v13: Client;
  let v10: ClientV10;

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
    v13 = new Client({ accessToken: TOKEN, basePath: fake.url });
    v10 = new ClientV10({ accessToken: TOKEN, basePath: fake.url });
  });
  after(() => fake.close());

  test('batch create, update, upsert and archive', async () => {
    const created = await v10.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'bc1@example.com' }, associations: [] },
        { properties: { email: 'bc2@example.com' }, associations: [] },
      ],
    });
    assert.equal(created.results.length, 2);
    const [a, b] = created.results;
    const updated = await v13.crm.contacts.batchApi.update({ inputs: [{ id: a!.id, properties: { lifecyclestage: 'customer' } }] });
    assert.equal(updated.results[0]?.properties['lifecyclestage'], 'customer');
    assert.equal(fake.get('contacts', a!.id)?.properties['lifecyclestage'], 'customer');
    const upserted = await v13.crm.contacts.batchApi.upsert({
      inputs: [
        { idProperty: 'email', id: 'bc2@example.com', properties: { firstname: 'Bea' } },
        { idProperty: 'email', id: 'bc3@example.com', properties: { firstname: 'Cy' } },
      ],
    });
    assert.deepEqual(upserted.results.map((r) => [r.properties['email'], r._new]).sort(), [
      ['bc2@example.com', false],
      ['bc3@example.com', true],
    ]);
    await v10.crm.contacts.batchApi.archive({ inputs: [{ id: b!.id }] });
    assert.equal(fake.get('contacts', b!.id)?.archived, true);
    await assert.rejects(v13.crm.contacts.batchApi.create({ inputs: [{ properties: { email: 'bc1@example.com' }, associations: [] }] }), (e: { code: number }) => e.code === 409);
  });

  test('merge with v10 publicObjectApi.merge and v13 basicApi.merge: values fill blanks, associations move, the other is archived', async () => {
    const company = fake.seed('companies', { name: 'Umbrella' });
    const primary = fake.seed('contacts', { email: 'm1@example.com', firstname: 'Keep' });
    const other = fake.seed('contacts', { email: 'm2@example.com', firstname: 'Lose', phone: '555' });
    fake.associate({ objectType: 'contacts', id: other.id }, { objectType: 'companies', id: company.id });
    const merged = await v10.crm.contacts.publicObjectApi.merge({ primaryObjectId: primary.id, objectIdToMerge: other.id });
    assert.equal(merged.id, primary.id);
    assert.equal(merged.properties['firstname'], 'Keep');
    assert.equal(merged.properties['phone'], '555');
    assert.equal(merged.properties['hs_merged_object_ids'], other.id);
    assert.deepEqual(fake.associatedIds({ objectType: 'contacts', id: primary.id }, 'companies'), [company.id]);
    assert.equal(fake.get('contacts', other.id)?.archived, true);
    const d1 = fake.seed('deals', { dealname: 'A' });
    const d2 = fake.seed('deals', { dealname: 'B', amount: 5 });
    const dealMerge = await v13.crm.deals.basicApi.merge({ primaryObjectId: d1.id, objectIdToMerge: d2.id });
    assert.equal(dealMerge.properties['amount'], '5');
  });

  test('GDPR delete (v10 gdprApi.purge, v13 basicApi.purge) removes the contact for good', async () => {
    const one = fake.seed('contacts', { email: 'g1@example.com' });
    const two = fake.seed('contacts', { email: 'g2@example.com' });
    await v10.crm.contacts.gdprApi.purge({ objectId: one.id });
    await v13.crm.contacts.basicApi.purge({ objectId: 'g2@example.com', idProperty: 'email' });
    assert.equal(fake.get('contacts', one.id), undefined);
    assert.equal(fake.get('contacts', two.id), undefined);
    await assert.rejects(v13.crm.contacts.basicApi.getById(one.id, undefined, undefined, undefined, true), (e: { code: number }) => e.code === 404);
  });

  test('owners: list by email, get by id and by userId', async () => {
    fake.seedOwner({ id: 501, email: 'sam@example.com', firstName: 'Sam', lastName: 'Sales', userId: 9001 });
    fake.seedOwner({ id: 502, email: 'ola@example.com', firstName: 'Ola' });
    const byEmail = await v10.crm.owners.ownersApi.getPage('ola@example.com');
    assert.deepEqual(
      byEmail.results.map((o) => o.id),
      ['502'],
    );
    const all = await v13.crm.owners.ownersApi.getPage();
    assert.equal(all.results.length, 2);
    const byUser = await v13.crm.owners.ownersApi.getById(9001, 'userId');
    assert.equal(byUser.email, 'sam@example.com');
    await assert.rejects(v13.crm.owners.ownersApi.getById(999), (e: { code: number }) => e.code === 404);
  });

  test('pipelines: the default deal pipeline and its stages, a new ticket pipeline', async () => {
    const deals = await v10.crm.pipelines.pipelinesApi.getAll('deals');
    const stages = deals.results[0]?.stages ?? [];
    assert.equal(deals.results[0]?.id, 'default');
    assert.equal(stages.find((s) => s.id === 'closedwon')?.metadata['probability'], '1.0');
    const created = await v13.crm.pipelines.pipelinesApi.create('tickets', { label: 'Escalations', displayOrder: 1, stages: [{ label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } }] });
    const stage = await v13.crm.pipelines.pipelineStagesApi.getById('tickets', created.id, created.stages[0]!.id);
    assert.equal(stage.label, 'Open');
  });

  test('propertiesWithHistory lists every value newest first; line items compute their amount', async () => {
    const deal = await v13.crm.deals.basicApi.create({ properties: { dealname: 'H', dealstage: 'appointmentscheduled' }, associations: [] });
    await v13.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    const read = await v10.crm.deals.basicApi.getById(deal.id, ['dealstage'], ['dealstage']);
    assert.deepEqual(
      read.propertiesWithHistory?.['dealstage']?.map((v) => v.value),
      ['closedwon', 'appointmentscheduled'],
    );
    const item = await v13.crm.lineItems.basicApi.create({ properties: { name: 'Seat', price: '12.5', quantity: '4', hs_discount_percentage: '10' }, associations: [] });
    assert.equal(item.properties['amount'], '45');
  });

  test('custom objects: a schema (v13 and v10 paths), then records by objectTypeId and p_ name', async () => {
    const schema = await v13.crm.schemas.coreApi.create({
      name: 'cars',
      labels: { singular: 'Car', plural: 'Cars' },
      primaryDisplayProperty: 'vin',
      requiredProperties: ['vin'],
      properties: [{ name: 'vin', label: 'VIN', type: 'string', fieldType: 'text' } as never],
      associatedObjects: ['CONTACT'],
    });
    const objectTypeId = schema.objectTypeId ?? assert.fail('the schema has an objectTypeId');
    assert.match(objectTypeId, /^2-\d+$/);
    const listed = await v10.crm.schemas.coreApi.getAll();
    assert.equal(listed.results[0]?.name, 'cars');
    const car = await v13.crm.objects.basicApi.create(objectTypeId, { properties: { vin: 'WVW123' }, associations: [] });
    const again = await v10.crm.objects.basicApi.getById('p_cars', car.id, ['vin']);
    assert.equal(again.properties['vin'], 'WVW123');
  });

  test('HubDB: published rows with filters, draft rows until published', async () => {
    fake.seedHubDbTable({
      name: 'territories',
      columns: [{ name: 'state' }, { name: 'owner_email' }],
      rows: [
        { state: 'CA', owner_email: 'west@example.com' },
        { state: 'NY', owner_email: 'east@example.com' },
      ],
    });
    const rows = await v10.cms.hubdb.rowsApi.getTableRows('territories');
    assert.equal(rows.results.length, 2);
    const res = await fetch(`${fake.url}/cms/v3/hubdb/tables/territories/rows?state__eq=NY`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(
      ((await res.json()) as { results: Array<{ values: Record<string, string> }> }).results.map((r) => r.values['owner_email']),
      ['east@example.com'],
    );
    await v13.cms.hubdb.rowsApi.createTableRow('territories', { values: { state: 'TX', owner_email: 'south@example.com' } });
    assert.equal((await v13.cms.hubdb.rowsApi.getTableRows('territories')).results.length, 2, 'the new row is a draft');
    await v13.cms.hubdb.tablesApi.publishDraftTable('territories');
    assert.equal((await v13.cms.hubdb.rowsApi.getTableRows('territories')).results.length, 3);
  });

  test('communication preferences: definitions, status, subscribe, unsubscribe, and the 400 for a repeat', async () => {
    const defs = await v10.communicationPreferences.definitionApi.getPage();
    assert.ok(defs.subscriptionDefinitions.some((d) => d.id === '101'));
    const sub = await v13.communicationPreferences.statusApi.subscribe({
      emailAddress: 'cp@example.com',
      subscriptionId: '101',
      legalBasis: 'CONSENT_WITH_NOTICE' as never,
      legalBasisExplanation: 'form',
    });
    assert.equal(sub.status, 'SUBSCRIBED');
    const status = await v10.communicationPreferences.statusApi.getEmailStatus('cp@example.com');
    assert.equal(status.subscriptionStatuses.find((s) => s.id === '101')?.status, 'SUBSCRIBED');
    await assert.rejects(v13.communicationPreferences.statusApi.subscribe({ emailAddress: 'cp@example.com', subscriptionId: '101' }), (e: { code: number }) => e.code === 400);
    await v10.communicationPreferences.statusApi.unsubscribe({ emailAddress: 'cp@example.com', subscriptionId: '101' });
    assert.equal(fake.subscriptionStatus('cp@example.com', '101'), 'NOT_SUBSCRIBED');
  });
});
