/**
 * A real HTTP server (`node:http`) that speaks HubSpot's wire format for the CRM v3 objects API
 * and OAuth v1, so `@hubspot/api-client`, axios or fetch can be pointed at it by base URL, plus
 * the handles tests need to arrange and inspect state (seeding, the request log, token expiry,
 * the rate limit, injected failures).
 */
import { appCallHandles, type AppCallHandles } from './app-calls.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '@codestep/core';
import { clearAreaState, createAreaState, routeAreas } from './areas.ts';
import { normalizeWrite } from './crm.properties.ts';
import { handleCrm } from './crm.routes.ts';
import { CrmStore, toSnapshot, type CrmObjectSnapshot } from './crm.store.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, injectedFailure, resourceNotFound, secondlyRateLimit, type FakeResponse } from './hubspot-errors.ts';
import { DEFAULT_USER_EMAIL, DEFAULT_USER_ID, resolveOptions, type HubSpotFakeOptions, type OAuthConsent } from './hubspot-fake.options.ts';
import { resolveType } from './custom-objects.ts';
import type { CrmObjectType, ObjectTypeSpec } from './object-types.ts';
import { handleOAuth } from './oauth.routes.ts';
import { SecondlyRateLimiter } from './rate-limiter.ts';
import { seedHandles, type SeedHandles } from './seed-handles.ts';
import { TokenRegistry } from './token.registry.ts';

/** One request as the fake saw it, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/crm/v3/objects/contacts/1001`. */
  path: string;
  /** The query string without `?` (empty when none). */
  query: string;
  /** The raw `Authorization` header. */
  authorization: string | undefined;
  /** The bearer token, when the header carried one. */
  token: string | undefined;
  /** The portal of a CRM request whose token checked out. */
  portalId: number | undefined;
  status: number;
  correlationId: string;
  /** Parsed body: JSON value, form fields as an object, text, or undefined when empty. */
  body: unknown;
  /** Epoch ms by the fake's clock. */
  at: number;
}

export interface IssueAccessTokenOptions {
  /** @default options.portalId */
  portalId?: number;
  /** Granted scopes; omitted grants every scope. */
  scopes?: readonly string[];
  /** @default options.accessTokenTtlSeconds */
  ttlSeconds?: number;
  /** Ties the token to an OAuth app (its rate-limit bucket and token metadata). */
  clientId?: string;
  /** @default 'fake-user@example.com' */
  userEmail?: string;
}

export interface IssuedAccessToken {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface FailNextOptions {
  /** Only requests whose path starts with this count (and fail). @default every path */
  pathPrefix?: string;
  /** Only requests with this bearer token count (and fail). @default any token */
  token?: string;
  /** Sent as the failures' `Retry-After` header, seconds. @default none */
  retryAfterSeconds?: number;
}

export interface SeedOptions {
  /** @default options.portalId */
  portalId?: number;
}

export interface HubSpotFake extends SeedHandles {
  /** `http://127.0.0.1:<port>`: use as `basePath` of the api-client or as the `api.hubapi.com` replacement. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, oldest first (a live, read-only view). */
  readonly requests: readonly RecordedRequest[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /**
   * Creates a record directly (no auth, no rate limit, not logged), with the same property rules
   * as the API. Throws a {@link ValidationError} for values HubSpot would refuse.
   */
  seed(objectType: CrmObjectType | string, properties: Record<string, string | number | boolean | null>, options?: SeedOptions): CrmObjectSnapshot;
  /** A record with every stored property, archived ones included; undefined when absent. */
  get(objectType: CrmObjectType | string, id: string, options?: SeedOptions): CrmObjectSnapshot | undefined;
  /** Live records of a type, in id order. */
  list(objectType: CrmObjectType | string, options?: SeedOptions & { archived?: boolean }): CrmObjectSnapshot[];
  /** Mints an OAuth-style access token that expires (unlike the static private-app tokens). */
  issueAccessToken(options?: IssueAccessTokenOptions): IssuedAccessToken;
  /** Registers a static private-app token at run time. */
  addPrivateAppToken(token: string, options?: { portalId?: number; scopes?: readonly string[] }): void;
  /** Makes an access token expired from now on; false when the token is unknown. */
  expireAccessToken(token: string): boolean;
  /** Requests per rolling second per token / app installation; 0 or Infinity turns limiting off. */
  setRateLimit(perSecond: number): void;
  /** The next `count` requests (matching `pathPrefix`; `Infinity`: all until `reset`) get `status` with HubSpot's body for it. */
  failNext(status: number, count?: number, options?: FailNextOptions): void;
  /** What `/oauth/authorize` decides from now on. */
  setOAuthConsent(consent: OAuthConsent): void;
  /** Drops records, the request log, pending failures and rate windows; tokens stay. */
  reset(): void;
  /**
   * HubSpot calling an app: runs its published workflow action (signed), delivers CRM webhook
   * batches (signed), and shows the callbacks the app completed through the automation v4 API.
   */
  readonly app: AppCallHandles;
}

interface PendingFailure {
  status: number;
  remaining: number;
  pathPrefix: string;
  token: string | undefined;
  retryAfterSeconds: number | undefined;
}

function specOf(ctx: FakeContext, portalId: number, objectType: string): ObjectTypeSpec {
  const spec = resolveType(ctx, portalId, objectType);
  if (!spec)
    throw new ValidationError(`hubspot-fake: unknown object type ${objectType}; use a standard type (contacts, companies, deals, tickets, line_items, notes, …) or define a custom object first`);
  return spec;
}

function parseBody(req: FakeRequest): unknown {
  if (req.rawBody.length === 0) return undefined;
  const text = req.rawBody.toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, correlationId: string, response: FakeResponse): void {
  const headers: Record<string, string> = { 'x-hubspot-correlation-id': correlationId, ...response.headers };
  if (response.html !== undefined) {
    res.writeHead(response.status, { ...headers, 'Content-Type': 'text/html;charset=utf-8' });
    res.end(response.html);
    return;
  }
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(response.body));
  res.writeHead(response.status, { ...headers, 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': String(payload.length) });
  res.end(payload);
}

/** The fake's state behind its server and its test handles. */
interface FakeState {
  readonly ctx: FakeContext;
  /** Every request so far, oldest first. */
  readonly log: RecordedRequest[];
  /** Failures injected by `failNext`, taken in order. */
  readonly failures: PendingFailure[];
}

/** Starts the fake and resolves once it listens. */
export async function startHubSpotFake(options: HubSpotFakeOptions = {}): Promise<HubSpotFake> {
  const resolved = resolveOptions(options);
  const { clock } = resolved;
  const tokens = new TokenRegistry(clock);
  for (const [token, config] of Object.entries(resolved.accessTokens)) {
    tokens.addPrivateAppToken(token, { ...config, userId: DEFAULT_USER_ID });
  }
  const ctx: FakeContext = {
    options: resolved,
    store: new CrmStore(clock, resolved.firstObjectId),
    tokens,
    limiter: new SecondlyRateLimiter(resolved.rateLimitPerSecond, clock),
    baseUrl: '',
    consent: resolved.oauthConsent,
    ...createAreaState(),
  };
  const state: FakeState = { ctx, log: [], failures: [] };
  const { server, port } = await listen(state);
  return {
    url: ctx.baseUrl,
    port,
    requests: state.log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    ...recordHandles(ctx),
    ...tokenHandles(ctx),
    ...behaviourHandles(state),
    ...seedHandles(ctx),
    app: appCallHandles(ctx),
  };
}

/** The next injected failure for `path`, counted down (and dropped once used up). */
function takeFailure(failures: PendingFailure[], req: FakeRequest): PendingFailure | undefined {
  const token = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
  const failure = failures.find((f) => req.path.startsWith(f.pathPrefix) && (f.token === undefined || f.token === token));
  if (!failure) return undefined;
  failure.remaining -= 1;
  if (failure.remaining <= 0) failures.splice(failures.indexOf(failure), 1);
  return failure;
}

/** An injected failure first, then the OAuth or CRM routes, else HubSpot's 404. */
function route(state: FakeState, req: FakeRequest): FakeResponse {
  const { ctx } = state;
  const failure = takeFailure(state.failures, req);
  if (failure) {
    const response = failure.status === 429 ? secondlyRateLimit(req.correlationId, 'publicapi:fake-injected-secondly', ctx.limiter.limit) : injectedFailure(failure.status, req.correlationId);
    if (failure.retryAfterSeconds !== undefined) response.headers = { ...response.headers, 'Retry-After': String(failure.retryAfterSeconds) };
    return response;
  }
  const [first, second, third] = req.segments;
  if (first === 'oauth') return handleOAuth(ctx, req);
  const area = routeAreas(ctx, req);
  if (area) return area;
  if (first === 'crm' && second === 'v3' && third === 'objects' && req.segments.length >= 4) return handleCrm(ctx, req);
  return resourceNotFound(req.correlationId);
}

/** One HTTP request: read (within the body cap), routed, recorded in the request log, answered. */
async function handle(state: FakeState, incoming: IncomingMessage, res: ServerResponse): Promise<void> {
  const { clock, logger, maxBodyBytes } = state.ctx.options;
  const correlationId = randomUUID();
  const url = new URL(incoming.url ?? '/', 'http://fake.invalid');
  let segments: string[];
  try {
    segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    segments = [];
  }
  const raw = await readRaw(incoming, maxBodyBytes);
  const req: FakeRequest = {
    method: (incoming.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    segments,
    query: url.searchParams,
    headers: incoming.headers,
    rawBody: raw ?? Buffer.alloc(0),
    correlationId,
  };
  let response: FakeResponse;
  try {
    response = raw === undefined ? crmError(413, correlationId, { message: 'Payload Too Large' }) : route(state, req);
  } catch (error) {
    logger.error({ err: error, path: req.path }, 'hubspot-fake handler failed');
    response = crmError(500, correlationId, { message: 'internal error' });
  }
  const authorization = incoming.headers.authorization;
  state.log.push({
    method: req.method,
    path: req.path,
    query: url.search.replace(/^\?/, ''),
    authorization,
    token: authorization ? /^Bearer\s+(\S+)/i.exec(authorization)?.[1] : undefined,
    portalId: req.portalId,
    status: response.status,
    correlationId,
    body: parseBody(req),
    at: clock(),
  });
  logger.debug({ method: req.method, path: req.path, status: response.status }, 'hubspot-fake request');
  send(res, correlationId, response);
}

/** Starts the HTTP server on the configured host and port; sets `ctx.baseUrl` once it listens. */
async function listen(state: FakeState): Promise<{ server: Server; port: number }> {
  const { ctx } = state;
  const resolved = ctx.options;
  const { logger } = resolved;
  const server = createServer((incoming, res) => {
    handle(state, incoming, res).catch((error: unknown) => {
      logger.error({ err: error }, 'hubspot-fake request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  ctx.baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url: ctx.baseUrl }, 'hubspot-fake listening');
  return { server, port };
}

/** The test handles on CRM records: seed, get, list (no auth, no rate limit, not logged). */
function recordHandles(ctx: FakeContext): Pick<HubSpotFake, 'seed' | 'get' | 'list'> {
  const resolved = ctx.options;
  const portalOf = (o?: SeedOptions) => o?.portalId ?? resolved.portalId;
  return {
    seed(objectType, properties, seedOptions) {
      const spec = specOf(ctx, portalOf(seedOptions), objectType);
      const written = normalizeWrite(spec, properties, {
        strict: resolved.strictProperties,
        customProperties: resolved.customProperties.get(spec.name) ?? new Set(),
      });
      if (!written.ok) {
        const detail = 'problems' in written ? written.problems.map((p) => p.message).join('; ') : written.invalidInput;
        throw new ValidationError(`hubspot-fake: cannot seed ${spec.name}: ${detail}`);
      }
      return toSnapshot(ctx.store.create(portalOf(seedOptions), spec, written.values));
    },
    get(objectType, id, getOptions) {
      const found = ctx.store.find(portalOf(getOptions), specOf(ctx, portalOf(getOptions), objectType).name, id);
      return found ? toSnapshot(found) : undefined;
    },
    list(objectType, listOptions) {
      return ctx.store.list(portalOf(listOptions), specOf(ctx, portalOf(listOptions), objectType).name, listOptions?.archived ?? false).map(toSnapshot);
    },
  };
}

/** The test handles on tokens: mint an expiring access token, add a private-app token, expire one. */
function tokenHandles(ctx: FakeContext): Pick<HubSpotFake, 'issueAccessToken' | 'addPrivateAppToken' | 'expireAccessToken'> {
  const { tokens } = ctx;
  const resolved = ctx.options;
  return {
    issueAccessToken(issue = {}) {
      const app = issue.clientId ? resolved.oauthClients.find((c) => c.clientId === issue.clientId) : undefined;
      if (issue.clientId && !app) throw new ValidationError(`hubspot-fake: unknown OAuth client ${issue.clientId}`);
      const record = tokens.issueAccessToken({
        portalId: issue.portalId ?? resolved.portalId,
        scopes: issue.scopes,
        ttlSeconds: issue.ttlSeconds ?? resolved.accessTokenTtlSeconds,
        clientId: issue.clientId,
        appId: app?.appId ?? 8000000,
        userEmail: issue.userEmail ?? DEFAULT_USER_EMAIL,
        userId: DEFAULT_USER_ID,
      });
      return { accessToken: record.token, expiresAt: record.expiresAt as number };
    },
    addPrivateAppToken(token, tokenOptions = {}) {
      tokens.addPrivateAppToken(token, {
        portalId: tokenOptions.portalId ?? resolved.portalId,
        scopes: tokenOptions.scopes,
        userEmail: DEFAULT_USER_EMAIL,
        userId: DEFAULT_USER_ID,
        appId: 7000001,
      });
    },
    expireAccessToken: (token) => tokens.expire(token),
  };
}

/** The test handles on the fake's behaviour: rate limit, injected failures, OAuth consent, reset. */
function behaviourHandles(state: FakeState): Pick<HubSpotFake, 'setRateLimit' | 'failNext' | 'setOAuthConsent' | 'reset'> {
  const { ctx, log, failures } = state;
  return {
    setRateLimit(perSecond) {
      if (!(perSecond >= 0)) throw new ValidationError(`hubspot-fake: rate limit must be >= 0, got ${perSecond}`);
      ctx.limiter.setLimit(perSecond);
    },
    failNext(status, count = 1, failOptions = {}) {
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw new ValidationError(`hubspot-fake: failNext takes a 4XX or 5XX status, got ${status}`);
      }
      if (failOptions.retryAfterSeconds !== undefined && !(failOptions.retryAfterSeconds >= 0))
        throw new ValidationError(`hubspot-fake: retryAfterSeconds must be >= 0, got ${failOptions.retryAfterSeconds}`);
      // Infinity: every matching request fails until reset().
      if (count > 0) failures.push({ status, remaining: count, pathPrefix: failOptions.pathPrefix ?? '/', token: failOptions.token, retryAfterSeconds: failOptions.retryAfterSeconds });
    },
    setOAuthConsent(consent) {
      ctx.consent = consent;
    },
    reset() {
      ctx.store.clear();
      clearAreaState(ctx);
      log.length = 0;
      failures.length = 0;
      ctx.limiter.reset();
    },
  };
}

export type { CrmObjectSnapshot };
