/**
 * The JsWorkflows contract end to end: the seed's two examples, unchanged, triggered by a
 * webhook, using the `my-hubspot` connection authorized through the full OAuth flow against
 * the HubSpot API fake (which also serves CRM v3 for api.hubapi.com, mapped by the egress policy).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, freeLoopbackPort, startPlatform, type PlatformProcess } from './platform-process.ts';

// The seed's first example, as written there.
const SHOPIFY_CONTACT = `export class Workflow {
async start(data, _headers, api) {
const { token, error } = await api.getOAuthToken('my-hubspot');
if (error || !token) throw new Error(error || 'Missing HubSpot token');
const customer = data.customer;
const response = await fetch('https://api.hubapi.com/crm/v3/objects/contacts', {
method: 'POST',
headers: {
'Content-Type': 'application/json; charset=utf-8',
Authorization: \`Bearer \${token}\`,
},
body: JSON.stringify({
properties: {
email: customer.email,
firstname: customer.first_name,
lastname: customer.last_name,
},
}),
});
if (!response.ok) {
throw new Error(\`HubSpot API \${response.status}: \${await response.text()}\`);
}
}
}`;

// The seed's second example is the body of a start method; it runs inside the same class shape.
const ORDER_DEAL_BODY = `const { token, error } = await api.getOAuthToken('my-hubspot');
if (error || !token) throw new Error(error || 'Missing HubSpot token');
const response = await fetch('https://api.hubapi.com/crm/v3/objects/deals', {
method: 'POST',
headers: {
'Content-Type': 'application/json; charset=utf-8',
Authorization: \`Bearer \${token}\`,
},
body: JSON.stringify({
properties: {
dealname: \`Order \${data.name}\`,
amount: data.total_price,
pipeline: 'default',
dealstage: 'closedwon',
},
}),
});
if (!response.ok) {
throw new Error(\`HubSpot API \${response.status}: \${await response.text()}\`);
}`;
const ORDER_DEAL = `export class Workflow {\nasync start(data, _headers, api) {\n${ORDER_DEAL_BODY}\nreturn { created: (await response.json()).id, order: data.name, topic: _headers['x-shopify-topic'] };\n}\n}`;

describe('JsWorkflows workflows over webhooks with a platform-managed HubSpot connection', () => {
  let fake: HubSpotFake;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;

  before(async () => {
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    fake = await startHubSpotFake({ oauthClients: [{ clientId: 'codestep-app', clientSecret: 'app-secret', redirectUris: [`${publicUrl}/oauth/callback`] }] });
    platform = await startPlatform({
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-jsw-')),
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      HUBSPOT_CLIENT_ID: 'codestep-app',
      HUBSPOT_CLIENT_SECRET: 'app-secret',
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
      CODESTEP_EGRESS_MAP_HOSTS: `api.hubapi.com=${fake.url}`,
    });
    call = api(platform.url, platform.apiKey);
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  it('authorizes my-hubspot through the full code flow: authorize URL, consent, callback, active', async () => {
    const created = await call('POST', '/v1/connections', { handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.write', 'deals.write'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const authorizeUrl = new URL(created.body.authorizeUrl);
    assert.equal(authorizeUrl.searchParams.get('client_id'), 'codestep-app');
    assert.deepEqual(authorizeUrl.searchParams.get('scope')!.split(' ').sort(), ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read', 'crm.objects.deals.write']);
    // The user's browser: the provider approves and redirects to our callback.
    const consent = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const callback = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.clone().text());
    const connection = await call('GET', '/v1/connections/my-hubspot');
    assert.equal(connection.body.status, 'active');
  });

  it("runs the seed's Shopify order → HubSpot contact example unchanged from a webhook", async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'shopify contact',
      objectType: 'WEBHOOK',
      actions: [{ id: 'contact', runtime: 'jsworkflows', code: SHOPIFY_CONTACT, connections: ['my-hubspot'] }],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const hook = await call('POST', `/v1/workflows/${wf.body.id}/webhook`);
    const res = await fetch(platform.url + hook.body.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create' },
      body: JSON.stringify({ name: '#1001', customer: { email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper' } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const contacts = fake.list('contacts').filter((c) => c.properties.email === 'grace@example.com');
    assert.equal(contacts.length, 1);
    assert.equal(contacts[0]!.properties.lastname, 'Hopper');
  });

  it("runs the seed's order → closed-won deal example, with query parameters merged into data and start's return value as the response", async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'order deal', objectType: 'WEBHOOK', actions: [{ id: 'deal', runtime: 'jsworkflows', code: ORDER_DEAL, connections: ['my-hubspot'] }] });
    const hook = await call('POST', `/v1/workflows/${wf.body.id}/webhook`);
    const res = await fetch(`${platform.url}${hook.body.path}?total_price=249.00`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/paid' },
      body: JSON.stringify({ name: '#1002' }),
    });
    const body = (await res.json()) as { created: string; order: string; topic: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.order, '#1002');
    assert.equal(body.topic, 'orders/paid');
    const deal = fake.get('deals', body.created);
    assert.equal(deal?.properties.dealname, 'Order #1002');
    assert.equal(deal?.properties.amount, '249.00');
    assert.equal(deal?.properties.dealstage, 'closedwon');
  });

  it('gives the action a clear error, not an exception, for a connection it did not declare', async () => {
    const code = `export class Workflow { async start(data, headers, api) { return await api.getOAuthToken('my-hubspot'); } }`;
    const wf = await call('POST', '/v1/workflows', { name: 'undeclared', objectType: 'WEBHOOK', actions: [{ id: 'peek', runtime: 'jsworkflows', code }] });
    const hook = await call('POST', `/v1/workflows/${wf.body.id}/webhook`);
    const res = await fetch(platform.url + hook.body.path, { method: 'POST' });
    const body = (await res.json()) as { token?: string | null; error?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(!body.token, 'no token for an undeclared connection');
    assert.match(body.error ?? '', /my-hubspot/);
  });

  it('answers 404 for an unknown hook', async () => {
    const res = await fetch(`${platform.url}/hooks/hk_nope`, { method: 'POST' });
    assert.equal(res.status, 404);
  });
});
