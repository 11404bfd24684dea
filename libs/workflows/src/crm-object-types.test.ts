import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crmObjectPath, objectTypeProblem, parseObjectType, sameObjectType } from './crm-object-types.ts';

describe('CRM object types', () => {
  it('accepts each standard type in HubSpot’s spellings and saves its singular upper-case name', () => {
    for (const [given, saved] of [
      ['contacts', 'CONTACT'],
      ['CONTACT', 'CONTACT'],
      ['contact', 'CONTACT'],
      ['0-1', 'CONTACT'],
      ['companies', 'COMPANY'],
      ['line_items', 'LINE_ITEM'],
      ['0-3', 'DEAL'],
      ['tasks', 'TASK'],
      ['Meetings', 'MEETING'],
      ['webhook', 'WEBHOOK'],
      ['schedule', 'SCHEDULE'],
    ])
      assert.equal(parseObjectType(given, 'objectType'), saved, given);
  });

  it('keeps a custom object’s id or fully qualified name', () => {
    assert.equal(parseObjectType('2-123456', 'objectType'), '2-123456');
    assert.equal(parseObjectType('p_cars', 'objectType'), 'p_cars');
    assert.equal(parseObjectType('P12345_Cars', 'objectType'), 'p12345_cars');
  });

  it('refuses anything else naming the field and listing the types', () => {
    for (const bad of ['CONTAKT', '', '3-1', 'p_', 'p-cars', 42, null]) assert.ok(objectTypeProblem(bad), String(bad));
    assert.throws(() => parseObjectType('CONTAKT', 'objectType'), {
      code: 'INVALID_ARGUMENT',
      message: /^objectType: "CONTAKT" is not a CRM object type: use one of contacts, companies, deals, tickets/,
    });
  });

  it('matches an enrollment of the same type in any spelling, a webhook payload, and nothing else', () => {
    assert.ok(sameObjectType('CONTACT', 'contacts'));
    assert.ok(sameObjectType('CONTACT', '0-1'));
    assert.ok(sameObjectType('CONTACT', 'WEBHOOK'));
    assert.ok(sameObjectType('WEBHOOK', 'DEAL'));
    assert.ok(sameObjectType('SCHEDULE', 'DEAL'));
    assert.ok(sameObjectType('CONTACT', ''));
    assert.ok(!sameObjectType('CONTACT', 'DEAL'));
    assert.ok(!sameObjectType('p_cars', 'p_boats'));
    // A workflow saved before types were checked keeps matching its own text.
    assert.ok(sameObjectType('ORDER', 'order'));
    assert.ok(!sameObjectType('ORDER', 'CONTACT'));
  });

  it('gives the CRM API path of a type', () => {
    assert.deepEqual(['CONTACT', 'line_items', '0-5', '2-99', 'p_cars', 'WEBHOOK', 'x'].map(crmObjectPath), ['contacts', 'line_items', 'tickets', '2-99', 'p_cars', undefined, undefined]);
  });
});
