import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HUBSPOT_PERMISSIONS, hubspotPreset } from './hubspot.preset.ts';
import { ProviderRegistry, genericOAuth2Provider, parseGenericProviders, resolveScopes } from './providers.ts';

const hubspot = hubspotPreset({ clientId: 'platform-app', clientSecret: 'platform-secret' });

describe('HubSpot preset', () => {
  it('maps every resource and operation to the scopes of the JsWorkflows table', () => {
    const table = HUBSPOT_PERMISSIONS.map((p) => [p.resource, p.operation, p.scopes.join(', ')]);
    assert.deepEqual(table, [
      ['Contacts', 'Read contacts', 'crm.objects.contacts.read'],
      ['Contacts', 'Create/update/delete contacts', 'crm.objects.contacts.read, crm.objects.contacts.write'],
      ['Companies', 'Read companies', 'crm.objects.companies.read'],
      ['Companies', 'Create/update/delete companies', 'crm.objects.companies.read, crm.objects.companies.write'],
      ['Deals', 'Read deals', 'crm.objects.deals.read'],
      ['Deals', 'Create/update/delete deals', 'crm.objects.deals.read, crm.objects.deals.write'],
      ['Marketing Email', 'Read/send marketing emails', 'marketing-email'],
      ['Files', 'Access file manager', 'files'],
      ['Tickets', 'Read/manage tickets', 'tickets'],
      ['Automation', 'Manage workflows & sequences', 'automation'],
    ]);
  });

  it('asks the union of the chosen permissions’ scopes, each once', () => {
    assert.deepEqual(resolveScopes(hubspot, ['contacts.read', 'contacts.write', 'deals.write'], []), [
      'crm.objects.contacts.read',
      'crm.objects.contacts.write',
      'crm.objects.deals.read',
      'crm.objects.deals.write',
    ]);
    assert.deepEqual(resolveScopes(hubspot, ['files', 'tickets'], []), ['files', 'tickets']);
  });

  it('refuses permissions and scopes HubSpot’s preset does not offer', () => {
    assert.throws(() => resolveScopes(hubspot, ['contacts.delete'], []), /unknown permission "contacts.delete" for HubSpot: choose from contacts.read, contacts.write/);
    assert.throws(() => resolveScopes(hubspot, [], ['oauth']), /scope "oauth" is not offered by HubSpot/);
  });

  it('uses HubSpot’s endpoints unless configured otherwise, with client credentials in the form body', () => {
    assert.equal(hubspot.authorizeUrl, 'https://app.hubspot.com/oauth/authorize');
    assert.equal(hubspot.tokenUrl, 'https://api.hubapi.com/oauth/v1/token');
    assert.equal(hubspot.tokenAuthMethod, 'client_secret_post');
    const fake = hubspotPreset({ clientId: 'a', clientSecret: 'b', authorizeUrl: 'http://127.0.0.1:9/oauth/authorize', tokenUrl: 'http://127.0.0.1:9/oauth/v1/token' });
    assert.equal(fake.authorizeUrl, 'http://127.0.0.1:9/oauth/authorize');
    assert.equal(fake.tokenUrl, 'http://127.0.0.1:9/oauth/v1/token');
  });
});

describe('generic OAuth 2.0 providers', () => {
  it('takes its settings from operator configuration, with PKCE on and basic auth by default', () => {
    const [p] = parseGenericProviders(
      JSON.stringify([
        {
          id: 'github',
          displayName: 'GitHub',
          authorizeUrl: 'https://github.com/login/oauth/authorize',
          tokenUrl: 'https://github.com/login/oauth/access_token',
          clientId: 'id',
          clientSecret: 's',
          scopes: ['repo'],
        },
      ]),
    );
    assert.equal(p?.pkce, true);
    assert.equal(p?.tokenAuthMethod, 'client_secret_basic');
    assert.equal(p?.grantType, 'authorization_code');
    assert.deepEqual(resolveScopes(p ?? hubspot, [], []), ['repo'], 'defaults apply when a connection names no scopes');
    assert.deepEqual(resolveScopes(p ?? hubspot, [], ['read:user', 'repo']), ['read:user', 'repo']);
  });

  it('says which entry and field of the configuration is wrong', () => {
    assert.throws(() => parseGenericProviders('{'), /OAUTH_PROVIDERS must be a JSON array/);
    assert.throws(() => parseGenericProviders('[{"id":"x","tokenUrl":"ftp://x","clientId":"a","clientSecret":"b"}]'), /OAuth provider "x": tokenUrl must be an http\(s\) URL/);
    assert.throws(() => genericOAuth2Provider({ id: 'x', tokenUrl: 'https://t', clientId: 'a', clientSecret: 'b' }), /authorizeUrl must be an http\(s\) URL/);
    assert.doesNotThrow(() => genericOAuth2Provider({ id: 'x', tokenUrl: 'https://t', clientId: 'a', clientSecret: 'b', grantType: 'client_credentials' }));
    assert.throws(() => genericOAuth2Provider({ id: 'Bad Id', tokenUrl: 'https://t', clientId: 'a', clientSecret: 'b' }), /id must be lowercase/);
    assert.throws(() => new ProviderRegistry([hubspot, hubspot]), /configured twice/);
  });
});
