/**
 * Command-line flags of `main.ts`, turned into {@link HubSpotFakeOptions}:
 *
 *   --port 4010                       TCP port (default 0: any free port)
 *   --host 127.0.0.1                  interface (default 127.0.0.1)
 *   --portal 62515                    default portal id
 *   --token pat-xxx[@PORTAL][:SCOPES] static private-app token, repeatable; SCOPES comma-separated
 *   --client ID:SECRET:URI[,URI]      OAuth app with its redirect URIs, repeatable
 *   --rate-limit 100                  requests per rolling second (0 = off)
 *   --token-ttl 1800                  OAuth access token lifetime, seconds
 *   --strict-properties               reject properties a standard portal lacks
 *   --seed seed.json                  a seed document to load (README: "Seed document")
 */
import { parseArgs } from 'node:util';
import { ValidationError } from '@codestep/core';
import type { HubSpotFakeOptions, OAuthClientConfig, PrivateAppTokenConfig } from './hubspot-fake.options.ts';

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`--${flag} takes a non-negative integer, got ${value}`);
  return n;
}

/** `TOKEN[@PORTAL][:SCOPE,SCOPE]`. */
export function parseTokenSpec(spec: string): [string, PrivateAppTokenConfig] {
  const [head = '', scopes] = spec.split(/:(.*)/s, 2);
  const [token = '', portal] = head.split('@', 2);
  if (token === '') throw new ValidationError(`--token ${spec}: the token is empty`);
  const config: PrivateAppTokenConfig = {};
  const portalId = integer(portal, 'token portal');
  if (portalId !== undefined) config.portalId = portalId;
  if (scopes !== undefined && scopes !== '')
    config.scopes = scopes
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  return [token, config];
}

/** `CLIENT_ID:CLIENT_SECRET:REDIRECT_URI[,REDIRECT_URI]` (the URIs keep their own colons). */
export function parseClientSpec(spec: string): OAuthClientConfig {
  const first = spec.indexOf(':');
  const second = first < 0 ? -1 : spec.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === spec.length - 1) {
    throw new ValidationError(`--client ${spec}: expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI[,REDIRECT_URI]`);
  }
  return {
    clientId: spec.slice(0, first),
    clientSecret: spec.slice(first + 1, second),
    redirectUris: spec.slice(second + 1).split(','),
  };
}

export function parseCliArgs(argv: readonly string[]): HubSpotFakeOptions & { seedFile?: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      portal: { type: 'string' },
      token: { type: 'string', multiple: true },
      client: { type: 'string', multiple: true },
      'rate-limit': { type: 'string' },
      'token-ttl': { type: 'string' },
      'strict-properties': { type: 'boolean' },
      seed: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const options: HubSpotFakeOptions & { seedFile?: string } = {};
  if (values.seed !== undefined) options.seedFile = values.seed;
  const port = integer(values.port, 'port');
  if (port !== undefined) options.port = port;
  if (values.host !== undefined) options.host = values.host;
  const portal = integer(values.portal, 'portal');
  if (portal !== undefined) options.portalId = portal;
  if (values.token) options.accessTokens = Object.fromEntries(values.token.map(parseTokenSpec));
  if (values.client) options.oauthClients = values.client.map(parseClientSpec);
  const rate = integer(values['rate-limit'], 'rate-limit');
  if (rate !== undefined) options.rateLimitPerSecond = rate;
  const ttl = integer(values['token-ttl'], 'token-ttl');
  if (ttl !== undefined) options.accessTokenTtlSeconds = ttl;
  if (values['strict-properties']) options.strictProperties = true;
  return options;
}
