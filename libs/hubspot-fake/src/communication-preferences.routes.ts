/**
 * Communication preferences v3: `GET /communication-preferences/v3/definitions`,
 * `GET …/status/email/{emailAddress}`, `POST …/subscribe` and `POST …/unsubscribe` (body
 * `{ emailAddress, subscriptionId, legalBasis?, legalBasisExplanation? }`). Every portal has
 * three subscription types; subscribing twice (or unsubscribing twice) is a 400, as at HubSpot.
 */
import { readObject, withAuth } from './api-auth.ts';
import { formatInstant } from './crm.properties.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, validationError, type FakeResponse } from './hubspot-errors.ts';

export interface SubscriptionDefinition {
  id: string;
  name: string;
  description: string;
  purpose: string;
}

const DEFINITIONS: SubscriptionDefinition[] = [
  { id: '101', name: 'Marketing Information', description: 'Marketing offers and updates.', purpose: 'Marketing' },
  { id: '102', name: 'One to One', description: 'One to one emails', purpose: 'Sales' },
  { id: '103', name: 'Customer Service Communication', description: 'Feedback requests and service updates.', purpose: 'Customer Service' },
];

interface Status {
  status: 'SUBSCRIBED' | 'NOT_SUBSCRIBED';
  legalBasis: string | null;
  legalBasisExplanation: string | null;
}

export class CommunicationPreferences {
  /** `${portal}|${email}|${subscriptionId}` → status. */
  readonly #statuses = new Map<string, Status>();

  definitions(): SubscriptionDefinition[] {
    return DEFINITIONS;
  }

  get(portalId: number, email: string, subscriptionId: string): Status | undefined {
    return this.#statuses.get(`${portalId}|${email.toLowerCase()}|${subscriptionId}`);
  }

  set(portalId: number, email: string, subscriptionId: string, status: Status): void {
    this.#statuses.set(`${portalId}|${email.toLowerCase()}|${subscriptionId}`, status);
  }

  clear(): void {
    this.#statuses.clear();
  }
}

function statusToWire(d: SubscriptionDefinition, s: Status | undefined): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    status: s?.status ?? 'NOT_SUBSCRIBED',
    sourceOfStatus: 'SUBSCRIPTION_STATUS',
    legalBasis: s?.legalBasis ?? null,
    legalBasisExplanation: s?.legalBasisExplanation ?? null,
  };
}

export function handleCommunicationPreferences(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'communication-preferences' || s[1] !== 'v3') return undefined;
  return withAuth(ctx, req, ['communication_preferences.read_write', 'communication_preferences.read', 'communication_preferences.write'], (token) => {
    const action = s.slice(2);
    if (req.method === 'GET' && action.length === 1 && action[0] === 'definitions') {
      const at = formatInstant(0);
      return {
        status: 200,
        body: { subscriptionDefinitions: DEFINITIONS.map((d) => ({ ...d, communicationMethod: 'Email', isActive: true, isDefault: true, isInternal: false, createdAt: at, updatedAt: at })) },
      };
    }
    if (req.method === 'GET' && action.length === 3 && action[0] === 'status' && action[1] === 'email') {
      const email = action[2] as string;
      return { status: 200, body: { recipient: email, subscriptionStatuses: DEFINITIONS.map((d) => statusToWire(d, ctx.subscriptions.get(token.portalId, email, d.id))) } };
    }
    if (req.method === 'POST' && action.length === 1 && (action[0] === 'subscribe' || action[0] === 'unsubscribe')) return change(ctx, req, token.portalId, action[0] === 'subscribe');
    return crmError(404, req.correlationId, { message: 'resource not found' });
  });
}

function change(ctx: FakeContext, req: FakeRequest, portalId: number, subscribe: boolean): FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const { emailAddress, subscriptionId, legalBasis, legalBasisExplanation } = body.value;
  if (typeof emailAddress !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailAddress)) return validationError(req.correlationId, `Invalid email address: ${String(emailAddress)}`);
  const definition = DEFINITIONS.find((d) => d.id === String(subscriptionId));
  if (!definition) return validationError(req.correlationId, `Subscription ${String(subscriptionId)} does not exist`);
  const current = ctx.subscriptions.get(portalId, emailAddress, definition.id)?.status ?? 'NOT_SUBSCRIBED';
  if (subscribe && current === 'SUBSCRIBED') return validationError(req.correlationId, `${emailAddress} is already subscribed to subscription ${definition.id}`);
  if (!subscribe && current === 'NOT_SUBSCRIBED') return validationError(req.correlationId, `${emailAddress} is already unsubscribed from subscription ${definition.id}`);
  const status: Status = {
    status: subscribe ? 'SUBSCRIBED' : 'NOT_SUBSCRIBED',
    legalBasis: typeof legalBasis === 'string' ? legalBasis : null,
    legalBasisExplanation: typeof legalBasisExplanation === 'string' ? legalBasisExplanation : null,
  };
  ctx.subscriptions.set(portalId, emailAddress, definition.id, status);
  return { status: 200, body: statusToWire(definition, status) };
}
