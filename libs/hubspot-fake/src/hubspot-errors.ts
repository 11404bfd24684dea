/**
 * Error bodies as HubSpot writes them. The CRM APIs share one envelope — `status: "error"`,
 * `message`, `correlationId`, then `errors`, `context`, `category` when present, in that key
 * order — while the OAuth token endpoints answer `{ status: "<CODE>", message, ... }`.
 * Texts are HubSpot's where captured responses show them; README.md lists which are not.
 */

/** A response the router sends as is: status, a JSON body or an HTML page, extra headers. */
export interface FakeResponse {
  status: number;
  body?: unknown;
  html?: string;
  headers?: Record<string, string>;
}

export interface CrmErrorFields {
  message: string;
  category?: string;
  errors?: ReadonlyArray<{ message: string; code?: string; context?: Record<string, unknown> }>;
  context?: Record<string, unknown>;
  links?: Record<string, string>;
  /** Extra top-level fields, e.g. the rate-limit `errorType` and `policyName`. */
  extra?: Record<string, unknown>;
}

export function crmError(status: number, correlationId: string, fields: CrmErrorFields): FakeResponse {
  const body: Record<string, unknown> = { status: 'error', message: fields.message, correlationId };
  if (fields.extra) Object.assign(body, fields.extra);
  if (fields.errors) body['errors'] = fields.errors;
  if (fields.context) body['context'] = fields.context;
  if (fields.links) body['links'] = fields.links;
  if (fields.category) body['category'] = fields.category;
  return { status, body };
}

export const INVALID_AUTHENTICATION_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function invalidAuthentication(correlationId: string): FakeResponse {
  const response = crmError(401, correlationId, { message: INVALID_AUTHENTICATION_MESSAGE, category: 'INVALID_AUTHENTICATION' });
  response.headers = { 'x-hubspot-auth-failure': '401 Unauthorized' };
  return response;
}

/** "expired 3 minute(s) ago": HubSpot names the largest whole unit. */
export function expiredAgo(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} second(s)`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} minute(s)`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} hour(s)`;
  return `${Math.floor(hours / 24)} day(s)`;
}

export function expiredAuthentication(correlationId: string, expiredAt: number, now: number): FakeResponse {
  const response = crmError(401, correlationId, {
    message: `The OAuth token used to make this call expired ${expiredAgo(now - expiredAt)} ago.`,
    category: 'EXPIRED_AUTHENTICATION',
    context: { 'expire time': [new Date(expiredAt).toISOString()] },
  });
  response.headers = { 'x-hubspot-auth-failure': '401 Unauthorized' };
  return response;
}

export function missingScopes(correlationId: string, requiredScopes: readonly string[]): FakeResponse {
  return crmError(403, correlationId, {
    message: "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [...requiredScopes] } }],
    links: { scopes: 'https://developers.hubspot.com/scopes' },
    category: 'MISSING_SCOPES',
  });
}

/** The message the api-client's RetryDecorator recognises (it retries after 1 s × attempt). */
export const SECONDLY_LIMIT_MESSAGE = 'You have reached your secondly limit.';

export function secondlyRateLimit(correlationId: string, groupName: string, limit: number): FakeResponse {
  const response = crmError(429, correlationId, {
    message: SECONDLY_LIMIT_MESSAGE,
    extra: { errorType: 'RATE_LIMIT', policyName: 'SECONDLY', groupName },
  });
  response.headers = rateLimitHeaders(limit, 0);
  return response;
}

export function rateLimitHeaders(limit: number, remaining: number): Record<string, string> {
  return { 'X-HubSpot-RateLimit-Secondly': String(limit), 'X-HubSpot-RateLimit-Secondly-Remaining': String(remaining) };
}

/** A numeric id that does not exist: HubSpot answers without a category. */
export function resourceNotFound(correlationId: string): FakeResponse {
  return crmError(404, correlationId, { message: 'resource not found' });
}

/** A non-numeric id. The two spaces are HubSpot's. */
export function objectNotFound(correlationId: string, id: string): FakeResponse {
  return crmError(404, correlationId, {
    message: 'Object not found.  objectId are usually numeric.',
    context: { id: [id] },
    category: 'OBJECT_NOT_FOUND',
  });
}

export function validationError(correlationId: string, message: string, extra?: Partial<CrmErrorFields>): FakeResponse {
  return crmError(400, correlationId, { ...extra, message, category: 'VALIDATION_ERROR' });
}

export interface PropertyProblem {
  name: string;
  code: 'PROPERTY_DOESNT_EXIST' | 'READ_ONLY_VALUE' | 'INVALID_EMAIL' | 'INVALID_LONG' | 'INVALID_DATETIME';
  message: string;
  value?: string;
}

/** 400 for property values, listing every bad property both in the message text and in `errors`. */
export function propertyValuesNotValid(correlationId: string, portalId: number, problems: readonly PropertyProblem[]): FakeResponse {
  const details = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.code,
    name: p.name,
    localizedErrorMessage: p.message,
    ...(p.value === undefined ? {} : { propertyValue: p.value }),
    portalId,
  }));
  return validationError(correlationId, `Property values were not valid: ${JSON.stringify(details)}`, {
    errors: problems.map((p) => ({ message: p.message, code: p.code, context: { propertyName: [p.name] } })),
  });
}

export function contactExists(correlationId: string, existingId: string): FakeResponse {
  return crmError(409, correlationId, { message: `Contact already exists. Existing ID: ${existingId}`, category: 'CONFLICT' });
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'internal error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A failure injected with `failNext`: HubSpot's envelope with the reason as message. */
export function injectedFailure(status: number, correlationId: string): FakeResponse {
  return crmError(status, correlationId, { message: REASONS[status] ?? `HTTP ${status}` });
}

export type OAuthErrorStatus = 'BAD_CLIENT_ID' | 'BAD_CLIENT_SECRET' | 'BAD_GRANT_TYPE' | 'BAD_AUTH_CODE' | 'BAD_REDIRECT_URI' | 'BAD_REFRESH_TOKEN';

const OAUTH_MESSAGES: Record<OAuthErrorStatus, { message: string; error: string }> = {
  BAD_CLIENT_ID: { message: 'missing or unknown client id', error: 'invalid_request' },
  BAD_CLIENT_SECRET: { message: 'missing or invalid client secret', error: 'invalid_client' },
  BAD_GRANT_TYPE: { message: 'missing or unknown grant type', error: 'unsupported_grant_type' },
  BAD_AUTH_CODE: { message: 'missing or unknown auth code', error: 'invalid_grant' },
  BAD_REDIRECT_URI: { message: 'redirect_uri does not match initial auth code URL', error: 'invalid_grant' },
  BAD_REFRESH_TOKEN: { message: 'missing or invalid refresh token', error: 'invalid_grant' },
};

/** 400 from the token endpoints: `{ status: 'BAD_AUTH_CODE', message, ... }`. */
export function oauthError(code: OAuthErrorStatus, correlationId: string): FakeResponse {
  const { message, error } = OAUTH_MESSAGES[code];
  return { status: 400, body: { status: code, message, correlationId, error, error_description: message } };
}
