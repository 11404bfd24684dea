/**
 * What a read adds to a record beyond its properties: `associations` (`?associations=companies,deals`
 * on get and list) and `propertiesWithHistory` (`?propertiesWithHistory=a,b` on get and list,
 * `propertiesWithHistory: []` in a batch read), in HubSpot's shapes.
 */
import { formatInstant, requestedProperties } from './crm.properties.ts';
import type { StoredObject } from './crm.store.ts';
import { resolveType } from './custom-objects.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';

export interface ReadExtras {
  associations?: string[] | undefined;
  propertiesWithHistory?: string[] | undefined;
}

export function extrasFromQuery(req: FakeRequest): ReadExtras {
  return { associations: requestedProperties(req.query.getAll('associations')), propertiesWithHistory: requestedProperties(req.query.getAll('propertiesWithHistory')) };
}

export function extrasFromBody(body: { propertiesWithHistory?: unknown }): ReadExtras {
  return { propertiesWithHistory: Array.isArray(body.propertiesWithHistory) ? body.propertiesWithHistory.map(String) : undefined };
}

/** The `associations` and `propertiesWithHistory` members for `object`, when asked for. */
export function readExtras(ctx: FakeContext, object: StoredObject, extras: ReadExtras): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (extras.propertiesWithHistory && extras.propertiesWithHistory.length > 0) {
    const history: Record<string, unknown[]> = {};
    for (const name of extras.propertiesWithHistory) {
      history[name] = [...(object.history.get(name) ?? [])].reverse().map((v) => ({ value: v.value, timestamp: formatInstant(v.timestamp), sourceType: v.sourceType }));
    }
    out['propertiesWithHistory'] = history;
  }
  if (extras.associations && extras.associations.length > 0) {
    const associations: Record<string, unknown> = {};
    for (const segment of extras.associations) {
      const toSpec = resolveType(ctx, object.portalId, segment);
      if (!toSpec) continue;
      const results = ctx.associations
        .list(object.portalId, { spec: object.spec, id: object.id }, toSpec)
        .filter((r) => ctx.store.find(object.portalId, toSpec.name, r.toId)?.archivedAt === undefined)
        .flatMap((r) => r.types.map((t) => ({ id: r.toId, type: t.name })));
      if (results.length > 0) associations[toSpec.name] = { results };
    }
    if (Object.keys(associations).length > 0) out['associations'] = associations;
  }
  return out;
}
