/**
 * Associations through the real clients: api-client 10 (what HubSpot's Node 20 runtime bundles:
 * `crm.objects.associationsApi`; older clients' `crm.contacts.associationsApi` calls the same paths) and 13 (`crm.associations.v4`),
 * `?associations=` on reads, inline associations on create, search on associations, batch
 * v3 and v4.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@hubspot/api-client';
import { Client as ClientV10 } from '@hubspot/api-client-v10';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-associations';

void describe('associations through @hubspot/api-client 10 and 13', () => {
  let fake: HubSpotFake;
  let v13: Client;
  let v10: ClientV10;

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
    v13 = new Client({ accessToken: TOKEN, basePath: fake.url });
    v10 = new ClientV10({ accessToken: TOKEN, basePath: fake.url });
  });
  after(() => fake.close());

  test('v10 crm.objects.associationsApi (gone in 11) creates a contact → company link both ways, and getAll reads it', async () => {
    const contact = fake.seed('contacts', { email: 'a1@example.com' });
    const company = fake.seed('companies', { name: 'Acme' });
    const created = await v10.crm.objects.associationsApi.create('contacts', contact.id, 'companies', company.id, 'contact_to_company');
    assert.equal(created.id, contact.id);
    // Like HubSpot since labels arrived, v3 lists the primary and the unlabeled type as two entries.
    assert.deepEqual(
      created.associations?.['companies']?.results.map((r) => `${r.id}:${r.type}`),
      [`${company.id}:contact_to_company`, `${company.id}:contact_to_company_unlabeled`],
    );
    const fromContact = await v10.crm.objects.associationsApi.getAll('contacts', contact.id, 'companies');
    assert.deepEqual(
      fromContact.results.map((r) => [r.id, r.type]),
      [
        [company.id, 'contact_to_company'],
        [company.id, 'contact_to_company_unlabeled'],
      ],
    );
    const fromCompany = await v10.crm.objects.associationsApi.getAll('companies', company.id, 'contacts');
    assert.ok(fromCompany.results.some((r) => r.id === contact.id && r.type === 'company_to_contact'));
    await v10.crm.objects.associationsApi.archive('contacts', contact.id, 'companies', company.id, 'contact_to_company');
    const left = await v10.crm.objects.associationsApi.getAll('contacts', contact.id, 'companies');
    assert.deepEqual(
      left.results.map((r) => r.type),
      ['contact_to_company_unlabeled'],
      'only the primary type was removed',
    );
  });

  test('a type that does not fit the pair is a 400', async () => {
    const contact = fake.seed('contacts', { email: 'a2@example.com' });
    const deal = fake.seed('deals', { dealname: 'D' });
    await assert.rejects(v10.crm.objects.associationsApi.create('contacts', contact.id, 'deals', deal.id, 'contact_to_company'), (e: { code: number; body: { category: string } }) => {
      assert.equal(e.code, 400);
      assert.equal(e.body.category, 'VALIDATION_ERROR');
      return true;
    });
  });

  test('v13 v4 basicApi: create with a spec, getPage, default association, archive', async () => {
    const deal = fake.seed('deals', { dealname: 'Big' });
    const contact = fake.seed('contacts', { email: 'a3@example.com' });
    const company = fake.seed('companies', { name: 'Globex' });
    const labels = await v13.crm.associations.v4.basicApi.create('deals', deal.id, 'contacts', contact.id, [
      { associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 3 },
    ]);
    assert.equal(String(labels.toObjectId), contact.id);
    const page = await v13.crm.associations.v4.basicApi.getPage('deals', deal.id, 'contacts');
    assert.equal(String(page.results[0]?.toObjectId), contact.id);
    assert.deepEqual(
      page.results[0]?.associationTypes.map((t) => ({ ...t })),
      [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }],
    );
    const reverse = await v13.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'deals');
    assert.equal(reverse.results[0]?.associationTypes[0]?.typeId, 4);
    await v13.crm.associations.v4.basicApi.createDefault('deals', deal.id, 'companies', company.id);
    const toCompany = await v13.crm.associations.v4.basicApi.getPage('deals', deal.id, 'companies');
    assert.deepEqual(
      toCompany.results[0]?.associationTypes.map((t) => [t.typeId, t.label]),
      [
        [5, 'Primary'],
        [341, null],
      ],
    );
    await v13.crm.associations.v4.basicApi.archive('deals', deal.id, 'contacts', contact.id);
    assert.deepEqual(fake.associatedIds({ objectType: 'contacts', id: contact.id }, 'deals'), []);
  });

  test('?associations= on get and list, inline associations on create, and search on associations', async () => {
    const company = fake.seed('companies', { name: 'Initech' });
    const contact = await v13.crm.contacts.basicApi.create({
      properties: { email: 'a4@example.com' },
      associations: [{ to: { id: company.id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 279 }] }],
    });
    const read = await v13.crm.contacts.basicApi.getById(contact.id, ['email'], undefined, ['companies']);
    assert.deepEqual(
      read.associations?.['companies']?.results.map((r) => r.id),
      [company.id],
    );
    const listed = await v10.crm.contacts.basicApi.getPage(100, undefined, ['email'], undefined, ['companies']);
    assert.ok(listed.results.find((r) => r.id === contact.id)?.associations?.['companies']);
    const found = await v13.crm.contacts.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'associations.company', operator: FilterOperatorEnum.Eq, value: company.id }] }] });
    assert.deepEqual(
      found.results.map((r) => r.id),
      [contact.id],
    );
    await assert.rejects(
      v13.crm.contacts.basicApi.create({
        properties: { email: 'a5@example.com' },
        associations: [{ to: { id: '999999' }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 279 }] }],
      }),
      (e: { code: number }) => e.code === 400,
    );
    assert.equal(fake.list('contacts').filter((c) => c.properties['email'] === 'a5@example.com').length, 0, 'a bad association creates nothing');
  });

  test('batch: v3 create and read (v10), v4 read with a 207 for ids without associations (v13)', async () => {
    const deal = fake.seed('deals', { dealname: 'Batch' });
    const [c1, c2, lonely] = ['b1', 'b2', 'b3'].map((n) => fake.seed('contacts', { email: `${n}@example.com` }));
    const created = await v10.crm.associations.batchApi.create('deals', 'contacts', {
      inputs: [
        { _from: { id: deal.id }, to: { id: c1!.id }, type: 'deal_to_contact' },
        { _from: { id: deal.id }, to: { id: c2!.id }, type: 'deal_to_contact' },
      ],
    });
    assert.deepEqual(created.results.map((r) => r.type).sort(), ['contact_to_deal', 'contact_to_deal', 'deal_to_contact', 'deal_to_contact'], 'both directions, as HubSpot answers');
    const v3read = await v10.crm.associations.batchApi.read('deals', 'contacts', { inputs: [{ id: deal.id }] });
    assert.deepEqual(v3read.results[0]?.to.map((t) => t.id).sort(), [c1!.id, c2!.id].sort());
    const v4read = await v13.crm.associations.v4.batchApi.getPage('contacts', 'deals', { inputs: [{ id: c1!.id }, { id: lonely!.id }] });
    assert.equal(v4read.results.length, 1);
    assert.equal(v4read.results[0]?._from.id, c1!.id);
    assert.equal((v4read as unknown as { numErrors: number }).numErrors, 1);
    await v13.crm.associations.v4.batchApi.archive('deals', 'contacts', { inputs: [{ _from: { id: deal.id }, to: [{ id: c1!.id }] }] });
    assert.deepEqual(fake.associatedIds({ objectType: 'deals', id: deal.id }, 'contacts'), [c2!.id]);
  });

  test('v4 getPage pages with limit and after, as paging loops in actions expect', async () => {
    const company = fake.seed('companies', { name: 'Paged' });
    const ids = ['p1', 'p2', 'p3'].map((n) => fake.seed('contacts', { email: `${n}@paged.com` }).id);
    for (const id of ids) fake.associate({ objectType: 'companies', id: company.id }, { objectType: 'contacts', id });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await v13.crm.associations.v4.basicApi.getPage('companies', company.id, 'contacts', after, 2);
      seen.push(...page.results.map((r) => String(r.toObjectId)));
      after = page.paging?.next?.after;
      pages += 1;
    } while (after);
    assert.deepEqual(seen, ids);
    assert.equal(pages, 2);
  });

  test('notes created with inline associations show on the contact (activities are CRM objects)', async () => {
    const contact = fake.seed('contacts', { email: 'n1@example.com' });
    const note = await v13.crm.objects.notes.basicApi.create({
      properties: { hs_note_body: 'Called, left a message', hs_timestamp: '2025-01-02T03:04:05Z' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 202 }] }],
    });
    assert.equal(note.properties['hs_timestamp'], '2025-01-02T03:04:05Z');
    const page = await v13.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'notes');
    assert.equal(String(page.results[0]?.toObjectId), note.id);
    assert.equal(page.results[0]?.associationTypes[0]?.typeId, 201);
    for (const type of ['calls', 'emails', 'tasks', 'meetings', 'communications']) {
      const created = await v13.crm.objects.basicApi.create(type, { properties: { hs_timestamp: '2025-01-01T00:00:00Z' }, associations: [] });
      assert.ok(fake.get(type, created.id), `${type} are stored`);
    }
  });
});
