/**
 * The published events as an outside team consumes them: the example consumer
 * (`events-consumer.example.ts`, its own consumer group, decoding with the generated
 * `EventEnvelope`) reads every topic of a distributed platform (each app its own process, real
 * Kafka and FerretDB) through a run that uses a secret and an OAuth connection (authorized
 * through the HubSpot fake, tokens refreshed on every use). Every record decodes, its key, headers
 * and topic are those docs/events.md promises, one execution's events are in order, and no
 * record — key, headers or value — holds the secret's value, an access or refresh token, the
 * authorization code, the app's client secret or the tenant's API key.
 * Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { topicOf, type EventCase } from '@codestep/events';
import { startEventsConsumer, type ConsumedEvent, type EventsConsumer } from './events-consumer.example.ts';
import { api, dropNamespaceDatabases, freeLoopbackPort, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;

const SECRET_ACTION = `exports.main = async (event) => {
  console.log('the key is', process.env.API_SECRET);
  return { outputFields: { echoed: 'key=' + process.env.API_SECRET, length: process.env.API_SECRET.length } };
};`;

const TOKEN_ACTION = `class Workflow {
  async start(data, headers, api) {
    const { token, error } = await api.getOAuthToken('my-hubspot');
    if (error || !token) throw new Error(error || 'no token');
    console.log('token', token, 'secret', env.API_SECRET);
    const res = await fetch('https://api.hubapi.com/crm/v3/objects/contacts', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ properties: { email: data.email } }),
    });
    if (!res.ok) throw new Error('HubSpot ' + res.status);
    return { created: (await res.json()).id };
  }
}`;

describe('an outside consumer of the published events', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  const namespace = `codestep_evt_${randomBytes(4).toString('hex')}`;
  const groupId = `${namespace}.example-consumer`;
  const clientSecret = `cs-${randomBytes(12).toString('hex')}`;
  const secretValue = `sk-live-${randomBytes(12).toString('hex')}`;
  const events: ConsumedEvent[] = [];
  let fake: HubSpotFake;
  let platform: DistributedPlatform;
  let consumer: EventsConsumer;
  let call: ReturnType<typeof api>;
  const enrollments: string[] = [];
  const metricsPorts: Record<string, number> = {};

  before(async () => {
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    for (const app of ['log', 'oauth-broker', 'executor-0']) metricsPorts[app] = await freeLoopbackPort();
    // Tokens live 30 s, inside the broker's 60 s refresh margin: every use refreshes one.
    fake = await startHubSpotFake({ accessTokenTtlSeconds: 30, oauthClients: [{ clientId: 'codestep-app', clientSecret, redirectUris: [`${publicUrl}/oauth/callback`] }] });
    platform = await startDistributedPlatform({
      brokers: brokers!,
      mongoUri: mongoUri!,
      namespace,
      executors: 1,
      appEnv: Object.fromEntries(Object.entries(metricsPorts).map(([app, p]) => [app, { CODESTEP_METRICS_PORT: String(p) }])),
      env: {
        CODESTEP_HTTP_PORT: String(port),
        CODESTEP_PUBLIC_URL: publicUrl,
        HUBSPOT_CLIENT_ID: 'codestep-app',
        HUBSPOT_CLIENT_SECRET: clientSecret,
        HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
        HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
        HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
        CODESTEP_EGRESS_MAP_HOSTS: `api.hubapi.com=${fake.url}`,
      },
    });
    call = api(publicUrl, platform.apiKey); // platform.url names the port it picked, which CODESTEP_HTTP_PORT overrides
    consumer = await startEventsConsumer({ brokers: brokers!.split(','), groupId, namespace, onEvent: (e) => void events.push(e) });
  });

  after(async () => {
    await consumer?.stop();
    await platform?.stop();
    await fake?.close();
    await dropNamespaceDatabases(mongoUri!, namespace);
  });

  async function finished(enrollmentId: string): Promise<any> {
    return waitFor(
      `enrollment ${enrollmentId} to finish`,
      async () => {
        const r = await call('GET', `/v1/enrollments/${enrollmentId}`);
        return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
      },
      120_000,
    );
  }

  it('runs a workflow with a secret and one with an OAuth connection', async () => {
    assert.equal((await call('PUT', '/v1/secrets/API_SECRET', { value: secretValue })).status, 200);
    const created = await call('POST', '/v1/connections', { handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.write'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const callback = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.clone().text());

    const secretWf = await call('POST', '/v1/workflows', {
      name: 'uses a secret',
      objectType: 'CONTACT',
      actions: [
        {
          id: 'echo',
          code: SECRET_ACTION,
          secrets: ['API_SECRET'],
          outputFields: [
            { name: 'echoed', type: 'string' },
            { name: 'length', type: 'number' },
          ],
        },
      ],
    });
    assert.equal(secretWf.status, 201, JSON.stringify(secretWf.body));
    const tokenWf = await call('POST', '/v1/workflows', {
      name: 'uses a connection',
      objectType: 'WEBHOOK',
      actions: [{ id: 'contact', runtime: 'jsworkflows', code: TOKEN_ACTION, connections: ['my-hubspot'], secrets: ['API_SECRET'] }],
    });
    assert.equal(tokenWf.status, 201, JSON.stringify(tokenWf.body));

    for (const [wf, properties] of [
      [secretWf.body.id, { email: 'ada@example.com' }],
      [tokenWf.body.id, { email: 'grace@example.com' }],
      [tokenWf.body.id, { email: 'linus@example.com' }],
    ] as const) {
      const r = await call('POST', `/v1/workflows/${wf}/enrollments`, { object: { objectId: randomBytes(3).toString('hex'), properties } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      enrollments.push(r.body.id);
    }
    for (const id of enrollments) {
      const h = await finished(id);
      assert.equal(h.status, 'completed', JSON.stringify(h));
    }
    const first = await finished(enrollments[0]!);
    assert.equal(first.executions[0].outputFields.echoed, 'key=[REDACTED]');
    assert.equal(
      fake.requests.filter((r) => r.method === 'POST' && r.path === '/crm/v3/objects/contacts' && r.status === 201 && r.token).length,
      2,
      'each run of the connection workflow called HubSpot with its token',
    );
    assert.ok(
      fake.requests.some((r) => r.path === '/oauth/v1/token' && (r.body as Record<string, string>)?.grant_type === 'refresh_token'),
      'a token was refreshed',
    );
  });

  it('receives every event of the run in its own consumer group, each decoding into the documented envelope', async () => {
    const types = () => new Set(events.map((e) => e.envelope.type));
    const expected = [
      'TenantCreated',
      'ApiKeyCreated',
      'WorkflowPublished',
      'ConnectionChanged',
      'ConnectionAuthorized',
      'ConnectionRefreshed',
      'EnrollmentStarted',
      'ActionRequested',
      'ActionStarted',
      'ActionLogged',
      'ActionSucceeded',
      'EnrollmentCompleted',
    ];
    await waitFor(
      'the consumer to see every enrollment completed and every execution logged',
      async () => {
        const completed = new Set(events.filter((e) => e.envelope.event?.$case === 'enrollmentCompleted').map((e) => e.envelope.aggregateId));
        const logged = new Set(events.filter((e) => e.envelope.event?.$case === 'actionLogged').map((e) => e.envelope.correlationId));
        return enrollments.every((id) => completed.has(id) && logged.has(id)) && expected.every((t) => types().has(t)) ? true : undefined;
      },
      120_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; seen ${[...types()].join(', ')}`);
    });

    const tenantIds = new Set<string>();
    for (const e of events) {
      const env = e.envelope;
      assert.ok(env.event, `${e.topic}@${e.offset} decodes to an event`);
      assert.equal(e.topic, `${namespace}.${topicOf(env.event.$case as EventCase)}`, `${env.type} is on its documented topic`);
      assert.equal(e.key, env.aggregateId, `${env.type}'s key is its aggregate id`);
      assert.equal(e.headers['event-type'], env.type);
      assert.equal(e.headers['schema-version'], String(env.schemaVersion));
      assert.equal(e.headers['tenant-id'], env.tenantId);
      assert.equal(e.headers['codestep-record-id'], env.eventId);
      assert.ok(env.eventId && env.tenantId && env.occurredAt > 0, `${env.type} has an id, a tenant and a time`);
      tenantIds.add(env.tenantId);
    }
    assert.equal(tenantIds.size, 1, 'one tenant in this run');

    // One execution's events are one ordered stream (one key, one partition).
    const succeeded = events.find((e) => e.envelope.event?.$case === 'actionSucceeded' && e.envelope.correlationId === enrollments[1])!;
    const stream = events.filter((e) => e.topic === succeeded.topic && e.key === succeeded.key);
    assert.ok(
      stream.every((e) => e.partition === succeeded.partition),
      'one partition per key',
    );
    assert.deepEqual(
      stream.map((e) => e.envelope.type),
      ['ActionRequested', 'ActionStarted', 'ActionSucceeded'],
    );

    const admin = new Kafka({ clientId: `${groupId}-admin`, brokers: brokers!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const committed = await waitFor('the example group to commit its position', async () => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [`${namespace}.codestep.actions.v1`] });
        const total = offsets.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        return total > 0 ? total : undefined;
      });
      assert.ok(committed > 0);
    } finally {
      await admin.disconnect();
    }
  });

  it('finds no secret value, token, authorization code, client secret or API key in any record', async () => {
    const tokenRequests = fake.requests.filter((r) => r.path === '/oauth/v1/token').map((r) => r.body as Record<string, string>);
    const sensitive = new Map<string, string>([
      ['the secret API_SECRET', secretValue],
      ["the HubSpot app's client secret", clientSecret],
      ["the tenant's API key", platform.apiKey],
    ]);
    for (const r of fake.requests) if (r.token) sensitive.set(`access token used on ${r.path}`, r.token);
    for (const body of tokenRequests) {
      if (body.refresh_token) sensitive.set('a refresh token', body.refresh_token);
      if (body.code) sensitive.set('the authorization code', body.code);
    }
    assert.ok(
      [...sensitive.keys()].some((k) => k.startsWith('access token')),
      'the run used an access token',
    );
    assert.ok(sensitive.has('a refresh token'), 'the run used a refresh token');

    // The secret and the token did reach the code (what it logged was redacted on the way out).
    const logged = events.flatMap((e) => (e.envelope.event?.$case === 'actionLogged' ? e.envelope.event.value.lines.map((l) => l.message) : []));
    assert.ok(logged.includes('the key is [REDACTED]'), JSON.stringify(logged));
    assert.ok(
      logged.some((m) => m === 'token [REDACTED] secret [REDACTED]'),
      JSON.stringify(logged),
    );

    assert.ok(events.length > 20, `${events.length} records checked`);
    for (const e of events) {
      const texts = [e.key, e.value.toString('latin1'), e.value.toString('utf8'), ...Object.values(e.headers)];
      for (const [what, value] of sensitive) assert.ok(!texts.some((t) => t.includes(value)), `${what} is in ${e.envelope.type} (${e.topic}@${e.partition}/${e.offset})`);
    }
    console.log(`# events contract: ${events.length} records of ${new Set(events.map((e) => e.envelope.type)).size} event types checked for ${new Set(sensitive.values()).size} sensitive values`);
  });

  it("serves each app's metrics in distributed mode: the run's enrollments, the Kafka lag per topic and partition of the log service, token refreshes, the executor's sandbox pool", async () => {
    const scrape = async (app: string) => (await (await fetch(`http://127.0.0.1:${metricsPorts[app]}/metrics`)).text()).split('\n');
    const log = await scrape('log');
    const finished = log.find((l) => l.startsWith('codestep_enrollments_finished_total{codestep_status="completed"'));
    assert.equal(finished?.split(' ').pop(), String(enrollments.length), log.join('\n'));
    const lag = log.filter((l) => l.startsWith('codestep_consumer_lag{') && l.includes(`messaging_consumer_group_name="${namespace}.codestep-log"`));
    for (const topic of ['codestep.enrollments.v1', 'codestep.actions.v1', 'codestep.logs.v1']) {
      assert.ok(
        lag.some((l) => l.includes(`messaging_destination_name="${namespace}.${topic}"`) && /messaging_destination_partition_id="\d+"/.test(l)),
        `lag of ${topic} by partition: ${lag.join('\n')}`,
      );
    }
    assert.ok(
      lag.every((l) => Number(l.split(' ').pop()) >= 0),
      lag.join('\n'),
    );
    const broker = await scrape('oauth-broker');
    assert.ok(
      broker.some((l) => l.startsWith('codestep_oauth_token_refreshes_total{') && l.includes('codestep_outcome="refreshed"') && Number(l.split(' ').pop()) >= 1),
      broker.filter((l) => l.includes('refreshes')).join('\n'),
    );
    const executor = await scrape('executor-0');
    assert.ok(
      executor.some((l) => l.startsWith('codestep_sandbox_workers{') && l.includes('codestep_executor_id="executor-0"')),
      executor.filter((l) => l.includes('sandbox')).join('\n'),
    );
  });
});
