/**
 * `GET /crm/v3/owners[?email=&limit=&after=&archived=]` and `GET /crm/v3/owners/{ownerId}[?idProperty=id|userId]`:
 * the portal's users who can own records, in HubSpot's shape
 * (`{ id, email, firstName, lastName, userId, createdAt, updatedAt, archived, teams }`).
 * Owners are seeded (`fake.seedOwner`, or `owners` in a seed document); the API only reads them.
 */
import { withAuth } from './api-auth.ts';
import { formatInstant } from './crm.properties.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';

export interface OwnerInput {
  id?: string | number;
  email: string;
  firstName?: string;
  lastName?: string;
  userId?: number;
  teams?: Array<{ id: string; name: string; primary?: boolean }>;
  archived?: boolean;
}

export interface Owner {
  id: string;
  portalId: number;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  teams: Array<{ id: string; name: string; primary: boolean }>;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export class OwnerStore {
  readonly #owners: Owner[] = [];
  #nextId = 50_000_001;

  add(portalId: number, input: OwnerInput, now: number): Owner {
    const id = input.id !== undefined ? String(input.id) : String(this.#nextId++);
    const owner: Owner = {
      id,
      portalId,
      email: input.email,
      firstName: input.firstName ?? '',
      lastName: input.lastName ?? '',
      userId: input.userId ?? 9_100_000 + this.#owners.length,
      teams: (input.teams ?? []).map((t) => ({ ...t, primary: t.primary ?? false })),
      archived: input.archived ?? false,
      createdAt: now,
      updatedAt: now,
    };
    this.#owners.push(owner);
    return owner;
  }

  list(portalId: number, archived = false): Owner[] {
    return this.#owners.filter((o) => o.portalId === portalId && o.archived === archived);
  }

  clear(): void {
    this.#owners.length = 0;
  }
}

export function ownerToWire(o: Owner): Record<string, unknown> {
  return {
    id: o.id,
    email: o.email,
    type: 'PERSON',
    firstName: o.firstName,
    lastName: o.lastName,
    userId: o.userId,
    userIdIncludingInactive: o.userId,
    createdAt: formatInstant(o.createdAt),
    updatedAt: formatInstant(o.updatedAt),
    archived: o.archived,
    teams: o.teams,
  };
}

export function handleOwners(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'crm' || s[1] !== 'v3' || s[2] !== 'owners' || req.method !== 'GET' || s.length > 4) return undefined;
  return withAuth(ctx, req, ['crm.objects.owners.read'], (token) => {
    const archived = req.query.get('archived') === 'true';
    const owners = ctx.owners.list(token.portalId, archived);
    if (s.length === 4) {
      const byUser = req.query.get('idProperty') === 'userId';
      const found = owners.find((o) => (byUser ? String(o.userId) : o.id) === s[3]);
      return found ? { status: 200, body: ownerToWire(found) } : resourceNotFound(req.correlationId);
    }
    const email = req.query.get('email');
    const limit = Number(req.query.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return validationError(req.correlationId, `limit must be an integer from 1 to 500, got ${req.query.get('limit')}`);
    const after = Number(req.query.get('after') ?? 0) || 0;
    const matching = owners.filter((o) => !email || o.email.toLowerCase() === email.toLowerCase());
    const page = matching.slice(after, after + limit);
    const body: Record<string, unknown> = { results: page.map(ownerToWire) };
    if (after + limit < matching.length) body['paging'] = { next: { after: String(after + limit), link: `${ctx.baseUrl}/crm/v3/owners/?after=${after + limit}` } };
    return { status: 200, body };
  });
}
