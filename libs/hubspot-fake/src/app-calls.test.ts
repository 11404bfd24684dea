/**
 * The fake playing HubSpot towards an app: its signatures agree with `Signature` of the official
 * `@hubspot/api-client` (which we did not write), the automation v4 definitions and callbacks
 * APIs behave as documented, and workflow action calls and webhook batches reach the app signed.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Signature } from '@hubspot/api-client';
import { startHubSpotFake, type HubSpotFake } from './index.ts';
import { hubspotSignature, v3Uri } from './request-signing.ts';

const CLIENT = { clientId: 'app-client', clientSecret: 'app-secret-0d4c', redirectUris: ['http://127.0.0.1/cb'], appId: 8100001 };

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('HubSpot fake: signatures', () => {
  const input = { clientSecret: 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy', method: 'POST', url: 'https://www.example.com/webhook_uri?x=1', body: '[{"eventId":1}]', timestamp: Date.now() };

  it('computes v1, v2 and v3 as the official api-client’s Signature does', () => {
    for (const version of ['v1', 'v2', 'v3'] as const) {
      const ours = hubspotSignature(version, input);
      assert.equal(ours, Signature.getSignature(input.method, version, { ...input, requestBody: input.body, signature: '' }), version);
      assert.equal(Signature.isValid({ ...input, requestBody: input.body, signatureVersion: version, signature: ours }), true, version);
    }
  });

  it('matches HubSpot’s documented v1 example', () => {
    const body =
      '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
    assert.equal(hubspotSignature('v1', { ...input, body }), '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de');
  });

  it('decodes the documented characters of the URI for v3 only', () => {
    assert.equal(v3Uri('https://h.example/a%3Ab%2Fc?q=%40x%20y'), 'https://h.example/a:b/c?q=@x%20y');
  });
});

describe('HubSpot fake: calling an app', () => {
  let fake: HubSpotFake;
  let app: Server;
  let appUrl: string;
  const received: Received[] = [];
  let answer: (r: Received) => { status: number; body: unknown } = () => ({ status: 200, body: { outputFields: { ok: true } } });

  before(async () => {
    fake = await startHubSpotFake({ oauthClients: [CLIENT], rateLimitPerSecond: 0, developerApiKey: 'dev-key' });
    app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        received.push(r);
        const out = answer(r);
        res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fake.close();
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
  });

  const definition = (actionUrl: string) => ({
    actionUrl,
    published: true,
    objectTypes: ['CONTACT'],
    inputFields: [{ typeDefinition: { name: 'workflow', type: 'enumeration', fieldType: 'select', optionsUrl: `${actionUrl}/options` }, supportedValueTypes: ['STATIC_VALUE'], isRequired: true }],
    outputFields: [{ typeDefinition: { name: 'score', type: 'number', fieldType: 'number' } }],
    labels: { en: { actionName: 'Run codestep workflow' } },
  });

  async function publish(): Promise<string> {
    const res = await fetch(`${fake.url}/automation/v4/actions/${CLIENT.appId}?hapikey=dev-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(definition(`${appUrl}/actions`)),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { id: string }).id;
  }

  it('serves the definitions API behind the developer key', async () => {
    const bad = await fetch(`${fake.url}/automation/v4/actions/${CLIENT.appId}?hapikey=nope`);
    assert.equal(bad.status, 401);
    const id = await publish();
    const patched = await fetch(`${fake.url}/automation/v4/actions/${CLIENT.appId}/${id}?hapikey=dev-key`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ published: false }),
    });
    assert.deepEqual([patched.status, ((await patched.json()) as { revisionId: string }).revisionId], [200, '2']);
    const invalid = await fetch(`${fake.url}/automation/v4/actions/${CLIENT.appId}?hapikey=dev-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actionUrl: 'nope' }),
    });
    assert.equal(invalid.status, 400);
    const list = (await (await fetch(`${fake.url}/automation/v4/actions/${CLIENT.appId}?hapikey=dev-key`)).json()) as { results: unknown[] };
    assert.ok(list.results.length >= 1);
  });

  it('runs the action signed v2 and v3 with HubSpot’s payload, and takes one completion per callback', async () => {
    const id = await publish();
    answer = () => ({ status: 200, body: { outputFields: { hs_execution_state: 'BLOCK' } } });
    const call = await fake.app.executeAction({ definitionId: id, objectId: 1001, inputFields: { workflow: 'wf_1', email: 'a@b.c' } });
    assert.equal(call.status, 200);
    const got = received.at(-1)!;
    const payload = JSON.parse(got.body) as { callbackId: string; origin: { portalId: number; actionDefinitionId: number }; object: { objectId: number }; inputFields: Record<string, string> };
    assert.deepEqual(
      [payload.callbackId, payload.origin.portalId, payload.origin.actionDefinitionId, payload.object.objectId, payload.inputFields.email],
      [call.callbackId, 62515, Number(id), 1001, 'a@b.c'],
    );
    const url = `${appUrl}${got.url}`;
    assert.equal(got.headers['x-hubspot-signature-version'], 'v2');
    assert.ok(Signature.isValid({ signatureVersion: 'v2', signature: String(got.headers['x-hubspot-signature']), clientSecret: CLIENT.clientSecret, requestBody: got.body, url, method: 'POST' }));
    assert.ok(
      Signature.isValid({
        signatureVersion: 'v3',
        signature: String(got.headers['x-hubspot-signature-v3']),
        clientSecret: CLIENT.clientSecret,
        requestBody: got.body,
        url,
        method: 'POST',
        timestamp: Number(got.headers['x-hubspot-request-timestamp']),
      }),
    );

    const token = fake.issueAccessToken({ clientId: CLIENT.clientId, scopes: ['automation'] }).accessToken;
    const complete = (body: unknown, path = `/automation/v4/actions/callbacks/${call.callbackId}/complete`) =>
      fetch(`${fake.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await complete({ outputFields: { score: 3 } })).status, 204);
    assert.equal((await complete({ outputFields: { score: 4 } })).status, 400, 'a second completion is refused');
    assert.deepEqual(
      fake.app.callback(call.callbackId)?.completions.map((c) => c.outputFields),
      [{ score: 3 }],
    );
    const other = await fake.app.executeAction({ definitionId: id, objectId: 1002 });
    assert.equal((await complete({ inputs: [{ callbackId: other.callbackId, outputFields: { score: 5 } }] }, '/automation/v4/actions/callbacks/complete')).status, 204);
    assert.equal(fake.app.callback(other.callbackId)?.completions[0]?.batch, true);
    const foreign = fake.issueAccessToken({ clientId: CLIENT.clientId, portalId: 99, scopes: ['automation'] }).accessToken;
    const third = await fake.app.executeAction({ definitionId: id, objectId: 1003 });
    const refused = await fetch(`${fake.url}/automation/v4/actions/callbacks/${third.callbackId}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${foreign}`, 'content-type': 'application/json' },
      body: JSON.stringify({ outputFields: {} }),
    });
    assert.equal(refused.status, 400, 'another portal’s token cannot complete it');
  });

  it('sends tampered requests on demand', async () => {
    const id = await publish();
    for (const tamper of ['bad-signature', 'stale-timestamp', 'unsigned'] as const) {
      await fake.app.executeAction({ definitionId: id, objectId: 1, tamper });
      const got = received.at(-1)!;
      const v3 = got.headers['x-hubspot-signature-v3'];
      const ok =
        v3 !== undefined &&
        (() => {
          try {
            return Signature.isValid({
              signatureVersion: 'v3',
              signature: String(v3),
              clientSecret: CLIENT.clientSecret,
              requestBody: got.body,
              url: `${appUrl}${got.url}`,
              method: 'POST',
              timestamp: Number(got.headers['x-hubspot-request-timestamp']),
            });
          } catch {
            return false;
          }
        })();
      assert.equal(ok, false, tamper);
    }
  });

  it('delivers webhook batches signed v1 and v3 when subscribed records change', async () => {
    answer = () => ({ status: 204, body: '' });
    fake.app.subscribeWebhooks({ clientId: CLIENT.clientId, targetUrl: `${appUrl}/webhooks`, subscriptions: ['contact.creation', 'contact.propertyChange:lifecyclestage'] });
    const token = fake.issueAccessToken({ clientId: CLIENT.clientId }).accessToken;
    const created = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { email: 'w@x.y' } }),
    });
    const { id } = (await created.json()) as { id: string };
    await fetch(`${fake.url}/crm/v3/objects/contacts/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { lifecyclestage: 'lead', firstname: 'W' } }),
    });
    await fake.app.webhooksSettled();
    const events = fake.app.webhookDeliveries.flatMap((d) => d.events);
    assert.deepEqual(
      events.map((e) => [e.subscriptionType, e.objectId, e.propertyName]),
      [
        ['contact.creation', Number(id), undefined],
        ['contact.propertyChange', Number(id), 'lifecyclestage'],
      ],
    );
    const got = received.filter((r) => r.url === '/webhooks').at(-1)!;
    assert.equal(got.headers['x-hubspot-signature-version'], 'v1');
    assert.ok(Signature.isValid({ signatureVersion: 'v1', signature: String(got.headers['x-hubspot-signature']), clientSecret: CLIENT.clientSecret, requestBody: got.body }));
  });
});
