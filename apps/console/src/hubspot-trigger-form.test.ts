/**
 * The HubSpot event trigger's form: to and from the API's JSON (PUT/GET
 * /v1/workflows/{id}/hubspot-trigger), the API's refusals put on their field, and a re-enrollment
 * policy with a field of its own added as one row of the options table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clearTriggerDraft,
  emptyHubSpotTrigger,
  hubspotTriggerBody,
  hubspotTriggerFieldOf,
  hubspotTriggerForm,
  loadTriggerDraft,
  objectOfType,
  REENROLL_OPTIONS,
  saveTriggerDraft,
  type ReenrollOption,
} from './web/lib/hubspot-trigger-form.ts';

describe("the HubSpot trigger's form", () => {
  it("starts off, on the workflow's own object's creation, enrolling on every event", () => {
    assert.deepEqual(emptyHubSpotTrigger('DEAL'), { enabled: false, object: 'deal', event: 'creation', propertyName: '', reenroll: 'always', params: {} });
    assert.equal(objectOfType('contacts'), 'contact');
    assert.equal(objectOfType('LINE_ITEM'), 'line_item');
    assert.equal(objectOfType('WEBHOOK'), 'contact', 'an object type HubSpot has no events for falls back to contacts (the API refuses the mismatch)');
  });

  it('reads the saved trigger as the API shows it, and none when its subscription is null', () => {
    assert.deepEqual(hubspotTriggerForm({ workflowId: 'w', subscription: 'contact.propertyChange', propertyName: 'email', reenroll: 'never', updatedAt: '2026-01-01T00:00:00.000Z' }, 'CONTACT'), {
      enabled: true,
      object: 'contact',
      event: 'propertyChange',
      propertyName: 'email',
      reenroll: 'never',
      params: {},
    });
    assert.deepEqual(hubspotTriggerForm({ workflowId: 'w', subscription: null }, 'TICKET'), emptyHubSpotTrigger('TICKET'));
    assert.deepEqual(hubspotTriggerForm(undefined, 'TICKET'), emptyHubSpotTrigger('TICKET'));
  });

  it('sends the subscription and re-enrollment, and a property name only with a property change', () => {
    const form = { ...emptyHubSpotTrigger('CONTACT'), enabled: true, propertyName: 'email' };
    assert.deepEqual(hubspotTriggerBody(form), { subscription: 'contact.creation', reenroll: 'always' }, 'a property typed, then the event changed, is not sent');
    assert.deepEqual(hubspotTriggerBody({ ...form, event: 'propertyChange', propertyName: ' email ', reenroll: 'never' }), {
      subscription: 'contact.propertyChange',
      reenroll: 'never',
      propertyName: 'email',
    });
    assert.deepEqual(hubspotTriggerBody({ ...form, event: 'propertyChange', propertyName: '  ' }), { subscription: 'contact.propertyChange', reenroll: 'always' }, 'blank: any property');
  });

  it("puts each of the API's refusals on its field", () => {
    // The messages of libs/gateway-service/src/hubspot/hubspot-triggers.ts.
    assert.equal(hubspotTriggerFieldOf('subscription must be <object>.<event> with object one of contact, company'), 'subscription');
    assert.equal(hubspotTriggerFieldOf('subscription: "deal.creation" enrolls DEAL objects but workflow w enrolls CONTACT objects'), 'subscription');
    assert.equal(hubspotTriggerFieldOf('propertyName must be a HubSpot property name (lowercase letters, digits, _)'), 'propertyName');
    assert.equal(hubspotTriggerFieldOf('reenroll must be "never" (once per object) or "always" (every event)'), 'reenroll');
    assert.equal(hubspotTriggerFieldOf('workflow w not found'), undefined);
  });

  it('sends re-enroll "after" with its minutes from its row of the options table, and takes a new policy from one more row', () => {
    const after = REENROLL_OPTIONS.find((o) => o.value === 'after');
    assert.equal(after?.param?.field, 'reenrollAfterMinutes', 'the API names the minutes reenrollAfterMinutes');
    const extra: ReenrollOption = { value: 'quarterly', label: 'each quarter', param: { field: 'reenrollQuarter', label: 'Quarter', hint: '1 to 4' } };
    assert.deepEqual(hubspotTriggerBody({ ...emptyHubSpotTrigger('CONTACT'), enabled: true, reenroll: 'quarterly', params: { reenrollQuarter: '2' } }, [...REENROLL_OPTIONS, extra]), {
      subscription: 'contact.creation',
      reenroll: 'quarterly',
      reenrollQuarter: 2,
    });
    const options = REENROLL_OPTIONS;
    const form = { ...emptyHubSpotTrigger('CONTACT'), enabled: true, reenroll: 'after', params: { reenrollAfterMinutes: '30' } };
    assert.deepEqual(hubspotTriggerBody(form, options), { subscription: 'contact.creation', reenroll: 'after', reenrollAfterMinutes: 30 });
    assert.deepEqual(hubspotTriggerBody({ ...form, params: { reenrollAfterMinutes: 'soon' } }, options).reenrollAfterMinutes, 'soon', 'text that is no number goes as typed, for the API to refuse');
    assert.deepEqual(hubspotTriggerBody({ ...form, reenroll: 'never' }, options), { subscription: 'contact.creation', reenroll: 'never' }, "another policy's field is not sent");
    assert.deepEqual(hubspotTriggerForm({ subscription: 'contact.creation', reenroll: 'after', reenrollAfterMinutes: 30 }, 'CONTACT', options).params, { reenrollAfterMinutes: '30' });
    assert.equal(hubspotTriggerFieldOf('reenrollAfterMinutes must be a whole number of minutes', options), 'reenrollAfterMinutes', 'the longest field name a message starts with wins');
  });

  it('keeps an unsaved trigger as a draft per workflow, and reads nothing from a draft that is not one', () => {
    const map = new Map<string, string>();
    const store = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k) };
    const form = { ...emptyHubSpotTrigger('CONTACT'), enabled: true, event: 'propertyChange', propertyName: 'email' };
    saveTriggerDraft(store, 'wf_1', form);
    assert.deepEqual(loadTriggerDraft(store, 'wf_1'), form);
    assert.equal(loadTriggerDraft(store, 'wf_2'), undefined, "another workflow's draft is its own");
    clearTriggerDraft(store, 'wf_1');
    assert.equal(loadTriggerDraft(store, 'wf_1'), undefined);
    map.set('codestep.hubspot-trigger-draft.wf_3', '{not json');
    assert.equal(loadTriggerDraft(store, 'wf_3'), undefined);
  });
});
