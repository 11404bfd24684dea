/**
 * HubSpot's automation v4 side of a public app's custom workflow action:
 *
 * - the definitions API (`/automation/v4/actions/{appId}[/{definitionId}]`, authenticated by the
 *   developer API key in `hapikey`), where the app publishes its action;
 * - the callbacks API (`POST /automation/v4/actions/callbacks/{callbackId}/complete` and the
 *   batch `POST /automation/v4/actions/callbacks/complete`, with the installing portal's token),
 *   where the app completes an execution it answered `BLOCK` to. Every completion is recorded;
 *   completing one callback twice is refused, as HubSpot does.
 */
import { withAuth } from './api-auth.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';

export interface ActionDefinition {
  id: string;
  revisionId: string;
  appId: number;
  actionUrl: string;
  published: boolean;
  objectTypes: string[];
  inputFields: unknown[];
  outputFields: unknown[];
  labels: Record<string, unknown>;
  [field: string]: unknown;
}

export interface CallbackCompletion {
  outputFields: Record<string, unknown>;
  failureReasonType?: string;
  at: number;
  /** Sent through the batch endpoint. */
  batch: boolean;
  token: string;
}

/** An execution the fake sent to an app: pending until the app completes its callback. */
export interface IssuedCallback {
  callbackId: string;
  portalId: number;
  appId: number;
  definitionId: string;
  objectId: number;
  issuedAt: number;
  /** What the app answered synchronously (its `outputFields`), if it answered 200. */
  answer?: Record<string, unknown>;
  completions: CallbackCompletion[];
  /** Completions refused (a second completion, another portal's token). */
  refused: number;
}

export class AutomationStore {
  readonly definitions = new Map<string, ActionDefinition>();
  readonly callbacks = new Map<string, IssuedCallback>();
  #nextDefinition = 1_000_001;
  #nextCallback = 1;

  newDefinitionId(): string {
    return String(this.#nextDefinition++);
  }

  newCallbackId(appId: number): string {
    return `ap-${appId}-${Date.now().toString(36)}-${this.#nextCallback++}`;
  }

  clear(): void {
    this.definitions.clear();
    this.callbacks.clear();
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(req: FakeRequest): unknown {
  try {
    return JSON.parse(req.rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** What HubSpot checks of a definition it is sent (a subset: the fields an action needs to run). */
function definitionProblem(body: Record<string, unknown>, partial: boolean): string | undefined {
  if (!partial || body['actionUrl'] !== undefined) {
    if (typeof body['actionUrl'] !== 'string' || !URL.canParse(body['actionUrl'])) return 'actionUrl must be an absolute URL';
  }
  for (const field of ['inputFields', 'outputFields', 'objectTypes'] as const) {
    if ((!partial || body[field] !== undefined) && body[field] !== undefined && !Array.isArray(body[field])) return `${field} must be an array`;
  }
  if (!partial || body['labels'] !== undefined) {
    const labels = body['labels'];
    if (!isObj(labels) || !isObj(labels['en']) || typeof labels['en']['actionName'] !== 'string') return 'labels.en.actionName is required';
  }
  return undefined;
}

function developerKeyOk(ctx: FakeContext, req: FakeRequest): boolean {
  return req.query.get('hapikey') === ctx.options.developerApiKey;
}

function definitions(ctx: FakeContext, req: FakeRequest, appId: number, definitionId: string | undefined): FakeResponse {
  if (!developerKeyOk(ctx, req)) return crmError(401, req.correlationId, { category: 'INVALID_AUTHENTICATION', message: 'The developer API key (hapikey) is missing or not valid for this app' });
  if (!ctx.options.oauthClients.some((c) => c.appId === appId)) return resourceNotFound(req.correlationId);
  const store = ctx.automation;
  if (definitionId === undefined && req.method === 'GET') {
    return { status: 200, body: { results: [...store.definitions.values()].filter((d) => d.appId === appId) } };
  }
  if (definitionId === undefined && req.method === 'POST') {
    const body = parseJson(req);
    if (!isObj(body)) return validationError(req.correlationId, 'Invalid input JSON: expected a JSON object');
    const problem = definitionProblem(body, false);
    if (problem) return validationError(req.correlationId, problem);
    const id = store.newDefinitionId();
    const definition: ActionDefinition = {
      inputFields: [],
      outputFields: [],
      objectTypes: [],
      published: false,
      ...body,
      labels: body['labels'] as Record<string, unknown>,
      actionUrl: body['actionUrl'] as string,
      id,
      revisionId: '1',
      appId,
    };
    store.definitions.set(id, definition);
    return { status: 201, body: definition };
  }
  const existing = definitionId ? store.definitions.get(definitionId) : undefined;
  if (!existing || existing.appId !== appId) return resourceNotFound(req.correlationId);
  if (req.method === 'GET') return { status: 200, body: existing };
  if (req.method === 'PATCH') {
    const body = parseJson(req);
    if (!isObj(body)) return validationError(req.correlationId, 'Invalid input JSON: expected a JSON object');
    const problem = definitionProblem(body, true);
    if (problem) return validationError(req.correlationId, problem);
    const next: ActionDefinition = { ...existing, ...body, id: existing.id, appId, revisionId: String(Number(existing.revisionId) + 1) } as ActionDefinition;
    store.definitions.set(existing.id, next);
    return { status: 200, body: next };
  }
  if (req.method === 'DELETE') {
    store.definitions.delete(existing.id);
    return { status: 204 };
  }
  return resourceNotFound(req.correlationId);
}

/** Records one completion; a reason to refuse it otherwise. */
function complete(ctx: FakeContext, portalId: number, token: string, callbackId: string, input: Record<string, unknown>, batch: boolean): string | undefined {
  const callback = ctx.automation.callbacks.get(callbackId);
  if (!callback || callback.portalId !== portalId) return `callback ${callbackId} does not exist for this portal`;
  if (callback.completions.length > 0) {
    callback.refused++;
    return `callback ${callbackId} was already completed`;
  }
  if (!isObj(input['outputFields'])) return 'outputFields must be an object';
  const completion: CallbackCompletion = { outputFields: input['outputFields'], at: ctx.options.clock(), batch, token };
  if (typeof input['failureReasonType'] === 'string') completion.failureReasonType = input['failureReasonType'];
  callback.completions.push(completion);
  return undefined;
}

function callbacks(ctx: FakeContext, req: FakeRequest, callbackId: string | undefined): FakeResponse {
  if (req.method !== 'POST') return resourceNotFound(req.correlationId);
  return withAuth(ctx, req, ['automation'], (token) => {
    const body = parseJson(req);
    if (!isObj(body)) return validationError(req.correlationId, 'Invalid input JSON: expected a JSON object');
    if (callbackId !== undefined) {
      const problem = complete(ctx, token.portalId, token.token, callbackId, body, false);
      return problem ? validationError(req.correlationId, problem) : { status: 204 };
    }
    const inputs = body['inputs'];
    if (!Array.isArray(inputs) || !inputs.every(isObj)) return validationError(req.correlationId, 'Invalid input JSON: inputs must be an array of objects');
    if (inputs.length > 100) return validationError(req.correlationId, `Batch input size ${inputs.length} exceeds the limit of 100`);
    const problems = inputs.map((i) => complete(ctx, token.portalId, token.token, String(i['callbackId'] ?? ''), i, true)).filter((p): p is string => p !== undefined);
    return problems.length ? validationError(req.correlationId, problems.join('; ')) : { status: 204 };
  });
}

/** Routes `/automation/v4/actions/…`; undefined for any other path. */
export function handleAutomation(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const [a, v, actions, fourth, fifth, sixth, ...rest] = req.segments;
  if (a !== 'automation' || v !== 'v4' || actions !== 'actions' || fourth === undefined) return undefined;
  if (fourth === 'callbacks') {
    if (fifth === 'complete' && sixth === undefined) return callbacks(ctx, req, undefined);
    if (fifth !== undefined && sixth === 'complete' && rest.length === 0) return callbacks(ctx, req, fifth);
    return resourceNotFound(req.correlationId);
  }
  const appId = Number(fourth);
  if (!Number.isInteger(appId) || sixth !== undefined) return resourceNotFound(req.correlationId);
  return definitions(ctx, req, appId, fifth);
}
