/**
 * `associations` given inline when creating a record (`POST /crm/v3/objects/{type}` and batch
 * create): `[{ to: { id }, types: [{ associationCategory, associationTypeId }] }]`. The type id
 * names the other record's type (202 = note → contact); every target is checked before the
 * record is created, so a bad one creates nothing.
 */
import { typeEnds } from './association-types.ts';
import type { StoredObject } from './crm.store.ts';
import { resolveType } from './custom-objects.ts';
import { idOf, type FakeContext, type FakeRequest } from './fake-context.ts';
import { validationError, type FakeResponse } from './hubspot-errors.ts';
import type { ObjectTypeSpec } from './object-types.ts';

type Plan = { ok: true; apply: (created: StoredObject) => void } | { ok: false; response: FakeResponse };

/** Checks the inline associations of one input; `apply` stores them once the record exists. */
export function planAssociations(ctx: FakeContext, correlationId: string, portalId: number, spec: ObjectTypeSpec, raw: unknown): Plan {
  if (raw === undefined || raw === null) return { ok: true, apply: () => undefined };
  if (!Array.isArray(raw)) return { ok: false, response: validationError(correlationId, 'Invalid input JSON: associations must be an array') };
  const links: Array<{ to: StoredObject; typeId: number }> = [];
  for (const item of raw as Array<{ to?: { id?: unknown }; types?: Array<{ associationTypeId?: unknown; associationCategory?: unknown }> }>) {
    const toId = idOf(item?.to?.id);
    if (!toId || !Array.isArray(item.types) || item.types.length === 0) {
      return { ok: false, response: validationError(correlationId, 'Invalid input JSON: each association needs to.id and at least one type') };
    }
    for (const type of item.types) {
      const typeId = Number(type?.associationTypeId);
      const ends = typeEnds(typeId);
      const toSpec = ends && ends.from === spec.singular ? resolveType(ctx, portalId, ends.to) : undefined;
      if (!toSpec)
        return {
          ok: false,
          response: validationError(
            correlationId,
            `${String(type?.associationCategory ?? 'HUBSPOT_DEFINED')} ${String(type?.associationTypeId)} is not a valid association type from ${spec.singular}`,
          ),
        };
      const to = ctx.store.find(portalId, toSpec.name, toId);
      if (!to || to.archivedAt !== undefined)
        return { ok: false, response: validationError(correlationId, `No ${toSpec.singular} with id ${toId} exists to associate with.`, { category: 'VALIDATION_ERROR' }) };
      links.push({ to, typeId });
    }
  }
  return {
    ok: true,
    apply: (created) => {
      for (const link of links) ctx.associations.associate(portalId, { spec, id: created.id }, { spec: link.to.spec, id: link.to.id }, link.typeId);
    },
  };
}

export function planInlineAssociations(ctx: FakeContext, req: FakeRequest, portalId: number, spec: ObjectTypeSpec): Plan {
  let raw: unknown;
  try {
    raw = (JSON.parse(req.rawBody.toString('utf8')) as { associations?: unknown }).associations;
  } catch {
    raw = undefined;
  }
  return planAssociations(ctx, req.correlationId, portalId, spec, raw);
}
