/** Reads shared by the association routes: live records and their links to live records. */
import type { StoredObject } from './crm.store.ts';
import type { FakeContext } from './fake-context.ts';
import type { ObjectTypeSpec } from './object-types.ts';

/** A live record of the type with this id. */
export function existing(ctx: FakeContext, portalId: number, spec: ObjectTypeSpec, id: string): StoredObject | undefined {
  const found = ctx.store.find(portalId, spec.name, id);
  return found && found.archivedAt === undefined ? found : undefined;
}

/** Associations to live records only (an archived record's links are hidden, as HubSpot hides them). */
export function liveAssociations(ctx: FakeContext, portalId: number, record: StoredObject, to: ObjectTypeSpec) {
  return ctx.associations.list(portalId, { spec: record.spec, id: record.id }, to).filter((r) => existing(ctx, portalId, to, r.toId));
}
