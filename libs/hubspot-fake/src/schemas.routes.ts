/**
 * `/crm/v3/schemas[/{objectType}]` and `/crm-object-schemas/v3/schemas[/{objectType}]` (the path
 * api-client 13 uses): list, create and read custom object schemas.
 */
import { readObject, withAuth } from './api-auth.ts';
import { formatInstant } from './crm.properties.ts';
import type { SchemaInput } from './custom-objects.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';
import { resolveObjectType } from './object-types.ts';
import type { CustomObjectSchema } from './object-types.more.ts';

export function schemaToWire(schema: CustomObjectSchema): Record<string, unknown> {
  return {
    id: schema.id,
    objectTypeId: schema.objectTypeId,
    name: schema.name,
    fullyQualifiedName: schema.fullyQualifiedName,
    labels: schema.labels,
    primaryDisplayProperty: schema.primaryDisplayProperty,
    secondaryDisplayProperties: schema.secondaryDisplayProperties,
    requiredProperties: schema.requiredProperties,
    searchableProperties: schema.searchableProperties,
    properties: schema.properties.map((p) => ({ ...p, groupName: `${schema.name}_information`, hidden: false, calculated: false, externalOptions: false, options: [] })),
    associations: schema.associatedObjects.map((o, i) => ({
      id: String(1000 + i),
      fromObjectTypeId: schema.objectTypeId,
      toObjectTypeId: resolveObjectType(o)?.objectTypeId ?? o,
      name: `${schema.name}_to_${o.toLowerCase()}`,
    })),
    archived: false,
    createdAt: formatInstant(schema.createdAt),
    updatedAt: formatInstant(schema.updatedAt),
  };
}

/** `/crm/v3/schemas[/{objectType}]` and `/crm-object-schemas/v3/schemas[/{objectType}]`. */
export function handleSchemas(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  const v3 = s[0] === 'crm' && s[1] === 'v3' && s[2] === 'schemas';
  const alt = s[0] === 'crm-object-schemas' && s[1] === 'v3' && s[2] === 'schemas';
  if (!v3 && !alt) return undefined;
  const rest = s.slice(3);
  return withAuth(ctx, req, ['crm.schemas.custom.read', 'crm.objects.custom.read'], (token) => {
    if (rest.length === 0 && req.method === 'GET') return { status: 200, body: { results: ctx.schemas.list(token.portalId).map(schemaToWire) } };
    if (rest.length === 0 && req.method === 'POST') {
      const body = readObject(req);
      if (!body.ok) return body.response;
      const created = ctx.schemas.create(token.portalId, body.value as unknown as SchemaInput, ctx.options.clock());
      if (typeof created === 'string') return validationError(req.correlationId, created);
      return { status: 201, body: schemaToWire(created) };
    }
    if (rest.length === 1 && req.method === 'GET') {
      const found = ctx.schemas.find(token.portalId, rest[0] as string);
      return found ? { status: 200, body: schemaToWire(found) } : resourceNotFound(req.correlationId);
    }
    return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
  });
}
