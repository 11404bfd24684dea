/**
 * Test support for the broker (the `./testing` entry): a real OAuth 2.0 server to run flows
 * against, and the storage layout, so that tests can open what the broker stored with the
 * master key and check nothing leaked in clear.
 */
export { RESOURCE_SERVER, startOAuthTestServer, type OAuthTestServer, type OAuthTestServerOptions, type TestClient } from './oauth-test-server.ts';
export { aad, COLLECTIONS, type ConnectionDoc, type OAuthStateDoc, type SecretDoc, type StoredCredentials } from '../connection.model.ts';
