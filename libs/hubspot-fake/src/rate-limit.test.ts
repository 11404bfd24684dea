/**
 * HubSpot's secondly limit and injected failures, seen through the real api-client: the 429 it
 * gets, and what its `numberOfApiCallRetries` does with 429 and 5XX answers.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Client } from '@hubspot/api-client';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const TOKEN = 'pat-na1-rate-limited';
const OTHER = 'pat-na1-another-app';

interface ApiError {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

// The api-client's RetryDecorator logs each retry with console.error; keep the test output readable.
const quietRetries = () => {
  const original = console.error;
  console.error = () => {};
  return () => {
    console.error = original;
  };
};

void describe('the secondly rate limit', () => {
  let fake: HubSpotFake;
  let contactId: string;
  // Frozen time makes "within one second" exact however slow the machine is; the retry tests
  // unfreeze it because the client really waits.
  let frozenAt: number | undefined;

  before(async () => {
    fake = await startHubSpotFake({
      accessTokens: { [TOKEN]: {}, [OTHER]: {} },
      oauthClients: [{ clientId: 'app-1', clientSecret: 's', redirectUris: ['http://localhost/cb'] }],
      rateLimitPerSecond: 2,
      clock: () => frozenAt ?? Date.now(),
    });
  });
  beforeEach(() => {
    frozenAt = Date.now();
    fake.reset();
    fake.setRateLimit(2);
    contactId = fake.seed('contacts', { email: 'limit@example.com' }).id;
  });
  afterEach(() => {
    frozenAt = undefined;
  });
  after(() => fake.close());

  void test('the third request within a second gets 429 with HubSpot’s SECONDLY body and headers', async () => {
    const client = new Client({ accessToken: TOKEN, basePath: fake.url });
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => client.crm.contacts.basicApi.getById(contactId, ['email'])));
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2);
    assert.equal(rejected.length, 1);
    const error = rejected[0]?.reason as ApiError;
    assert.equal(error.code, 429);
    assert.equal(error.body['status'], 'error');
    assert.equal(error.body['message'], 'You have reached your secondly limit.');
    assert.equal(error.body['errorType'], 'RATE_LIMIT');
    assert.equal(error.body['policyName'], 'SECONDLY');
    assert.equal(error.body['groupName'], 'publicapi:private-app-api-calls-secondly:62515');
    assert.equal(error.headers['x-hubspot-ratelimit-secondly'], '2');
    assert.equal(error.headers['x-hubspot-ratelimit-secondly-remaining'], '0');
    assert.deepEqual(fake.requests.map((r) => r.status).sort(), [200, 200, 429]);
  });

  void test('successful answers count the remaining requests down in the headers', async () => {
    const first = await fetch(`${fake.url}/crm/v3/objects/contacts/${contactId}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const second = await fetch(`${fake.url}/crm/v3/objects/contacts/${contactId}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(first.headers.get('x-hubspot-ratelimit-secondly-remaining'), '1');
    assert.equal(second.headers.get('x-hubspot-ratelimit-secondly-remaining'), '0');
  });

  void test('each private-app token has its own bucket', async () => {
    const one = new Client({ accessToken: TOKEN, basePath: fake.url });
    const two = new Client({ accessToken: OTHER, basePath: fake.url });
    await Promise.all([one, one, two, two].map((c) => c.crm.contacts.basicApi.getById(contactId)));
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [200, 200, 200, 200],
    );
  });

  void test('two access tokens of one OAuth app installation share a bucket, another portal does not', async () => {
    const first = fake.issueAccessToken({ clientId: 'app-1' }).accessToken;
    const refreshed = fake.issueAccessToken({ clientId: 'app-1' }).accessToken;
    const elsewhere = fake.issueAccessToken({ clientId: 'app-1', portalId: 999 }).accessToken;
    const statuses: number[] = [];
    for (const token of [first, refreshed, refreshed, elsewhere]) {
      const response = await fetch(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${token}` } });
      statuses.push(response.status);
      const body = (await response.json()) as Record<string, unknown>;
      if (response.status === 429) assert.equal(body['groupName'], 'publicapi:oauth-api-calls-secondly:8000001:62515');
    }
    assert.deepEqual(statuses, [200, 200, 429, 200]);
  });

  void test('numberOfApiCallRetries makes the client wait and retry a secondly 429 until it succeeds', async () => {
    frozenAt = undefined;
    const restore = quietRetries();
    try {
      const client = new Client({ accessToken: TOKEN, basePath: fake.url, numberOfApiCallRetries: 3 });
      const contacts = await Promise.all([1, 2, 3].map(() => client.crm.contacts.basicApi.getById(contactId, ['email'])));
      assert.deepEqual(
        contacts.map((c) => c.properties['email']),
        ['limit@example.com', 'limit@example.com', 'limit@example.com'],
      );
    } finally {
      restore();
    }
    // Three answers reached the caller after the client retried the 429 (1 s later, then 2 s if
    // a timer fired a hair early and the window still held two requests).
    const statuses = fake.requests.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 3);
    assert.ok(statuses.filter((s) => s === 429).length >= 1);
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 429]);
    assert.equal(statuses.at(-1), 200);
  });

  void test('a 429 injected with failNext is retried like a real one', async () => {
    fake.setRateLimit(0);
    fake.failNext(429, 1);
    const restore = quietRetries();
    try {
      const client = new Client({ accessToken: TOKEN, basePath: fake.url, numberOfApiCallRetries: 2 });
      const contact = await client.crm.contacts.basicApi.getById(contactId, ['email']);
      assert.equal(contact.properties['email'], 'limit@example.com');
    } finally {
      restore();
    }
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [429, 200],
    );
  });
});

void describe('injected 5XX failures', () => {
  let fake: HubSpotFake;

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
  });
  beforeEach(() => fake.reset());
  after(() => fake.close());

  void test('failNext answers the next requests with the status in HubSpot’s envelope, then recovers', async () => {
    fake.failNext(503, 2);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      statuses.push(response.status);
      if (response.status === 503) {
        const body = (await response.json()) as Record<string, unknown>;
        assert.equal(body['status'], 'error');
        assert.equal(body['message'], 'Service Unavailable');
      } else {
        await response.arrayBuffer();
      }
    }
    assert.deepEqual(statuses, [503, 503, 200]);
  });

  void test('failNext can target a path prefix and leave other paths alone', async () => {
    fake.failNext(500, 1, { pathPrefix: '/oauth/' });
    const crm = await fetch(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(crm.status, 200);
    const token = await fetch(`${fake.url}/oauth/v1/token`, { method: 'POST' });
    assert.equal(token.status, 500);
  });

  void test('the client retries a 500 once it has attempts left', async () => {
    const seeded = fake.seed('companies', { name: 'Flaky Inc' });
    fake.failNext(500, 1);
    const restore = quietRetries();
    try {
      const client = new Client({ accessToken: TOKEN, basePath: fake.url, numberOfApiCallRetries: 2 });
      const company = await client.crm.companies.basicApi.getById(seeded.id, ['name']);
      assert.equal(company.properties['name'], 'Flaky Inc');
    } finally {
      restore();
    }
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [500, 200],
    );
  });

  void test('numberOfApiCallRetries counts attempts, not retries: 1 means the 500 reaches the caller', async () => {
    const seeded = fake.seed('companies', { name: 'Flaky Inc' });
    fake.failNext(500, 1);
    const client = new Client({ accessToken: TOKEN, basePath: fake.url, numberOfApiCallRetries: 1 });
    await assert.rejects(client.crm.companies.basicApi.getById(seeded.id), (error: ApiError) => error.code === 500);
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [500],
    );
  });
});
