/**
 * Test and CLI handles on the areas beyond CRM records: owners, custom object schemas, HubDB
 * tables, associations, subscription statuses, and {@link SeedDocument}, one JSON document that
 * arranges all of them (what `codestep hubspot-fake --seed` and the action corpus load).
 */
import { ValidationError } from '@codestep/core';
import { normalizeWrite } from './crm.properties.ts';
import { toSnapshot } from './crm.store.ts';
import { resolveType, type SchemaInput } from './custom-objects.ts';
import type { FakeContext } from './fake-context.ts';
import type { HubDbTableInput } from './hubdb.routes.ts';
import { ownerToWire, type OwnerInput } from './owners.routes.ts';
import type { ObjectTypeSpec } from './object-types.ts';

type Value = string | number | boolean | null;

/** One JSON document that arranges a portal. Records get a `ref` so associations and tests can name them. */
export interface SeedDocument {
  owners?: OwnerInput[];
  schemas?: SchemaInput[];
  /** Per object type (`contacts`, `deals`, `p_cars`, …): `{ ref?, properties }` or a bare properties object. */
  objects?: Record<string, Array<{ ref?: string; properties: Record<string, Value> } | Record<string, Value>>>;
  /** By ref: `{ from: 'ada', to: 'acme' }` (default type) or with `typeId`. */
  associations?: Array<{ from: string; to: string; typeId?: number }>;
  hubdb?: HubDbTableInput[];
  pipelines?: Record<string, Array<{ id?: string; label: string; stages: Array<{ id?: string; label: string; metadata?: Record<string, unknown> }> }>>;
  subscriptions?: Array<{ email: string; subscriptionId: string; status: 'SUBSCRIBED' | 'NOT_SUBSCRIBED' }>;
}

export interface SeededRecord {
  objectType: string;
  id: string;
}

export interface SeedHandles {
  seedOwner(owner: OwnerInput, options?: { portalId?: number }): Record<string, unknown>;
  defineObject(schema: SchemaInput, options?: { portalId?: number }): { objectTypeId: string; fullyQualifiedName: string; name: string };
  seedHubDbTable(table: HubDbTableInput, options?: { portalId?: number }): { id: string; name: string };
  hubDbRows(table: string, options?: { portalId?: number; draft?: boolean }): Array<{ id: string; values: Record<string, unknown> }>;
  associate(from: SeededRecord, to: SeededRecord, options?: { portalId?: number; typeId?: number }): void;
  associatedIds(from: SeededRecord, toType: string, options?: { portalId?: number }): string[];
  subscriptionStatus(email: string, subscriptionId: string, options?: { portalId?: number }): 'SUBSCRIBED' | 'NOT_SUBSCRIBED';
  /** Loads a {@link SeedDocument} into a portal; returns the records by ref. */
  load(document: SeedDocument, options?: { portalId?: number }): { refs: Record<string, SeededRecord> };
}

export function seedHandles(ctx: FakeContext): SeedHandles {
  const portalOf = (o?: { portalId?: number }) => o?.portalId ?? ctx.options.portalId;
  const specIn = (portalId: number, type: string): ObjectTypeSpec => {
    const spec = resolveType(ctx, portalId, type);
    if (!spec) throw new ValidationError(`hubspot-fake: unknown object type ${type}; use a standard type (contacts, deals, notes, …) or define a custom object first`);
    return spec;
  };
  const handles: SeedHandles = {
    seedOwner: (owner, o) => ownerToWire(ctx.owners.add(portalOf(o), owner, ctx.options.clock())),
    defineObject(schema, o) {
      const created = ctx.schemas.create(portalOf(o), schema, ctx.options.clock());
      if (typeof created === 'string') throw new ValidationError(`hubspot-fake: cannot define ${schema.name}: ${created}`);
      return { objectTypeId: created.objectTypeId, fullyQualifiedName: created.fullyQualifiedName, name: created.name };
    },
    seedHubDbTable(table, o) {
      const created = ctx.hubdb.create(portalOf(o), table, ctx.options.clock(), true);
      return { id: created.id, name: created.name };
    },
    hubDbRows(table, o) {
      const found = ctx.hubdb.find(portalOf(o), table);
      if (!found) throw new ValidationError(`hubspot-fake: no HubDB table ${table}`);
      return (o?.draft ? found.draft : found.published).map((r) => ({ id: r.id, values: { ...r.values } }));
    },
    associate(from, to, o) {
      const portalId = portalOf(o);
      const ends = [
        { spec: specIn(portalId, from.objectType), id: from.id },
        { spec: specIn(portalId, to.objectType), id: to.id },
      ] as const;
      if (o?.typeId === undefined) ctx.associations.associateDefault(portalId, ends[0], ends[1]);
      else ctx.associations.associate(portalId, ends[0], ends[1], o.typeId);
    },
    associatedIds(from, toType, o) {
      const portalId = portalOf(o);
      return ctx.associations.list(portalId, { spec: specIn(portalId, from.objectType), id: from.id }, specIn(portalId, toType)).map((r) => r.toId);
    },
    subscriptionStatus: (email, subscriptionId, o) => ctx.subscriptions.get(portalOf(o), email, subscriptionId)?.status ?? 'NOT_SUBSCRIBED',
    load: (document, o) => load(ctx, handles, document, portalOf(o), specIn),
  };
  return handles;
}

function load(ctx: FakeContext, handles: SeedHandles, doc: SeedDocument, portalId: number, specIn: (p: number, t: string) => ObjectTypeSpec): { refs: Record<string, SeededRecord> } {
  const options = { portalId };
  for (const owner of doc.owners ?? []) handles.seedOwner(owner, options);
  for (const schema of doc.schemas ?? []) handles.defineObject(schema, options);
  for (const table of doc.hubdb ?? []) handles.seedHubDbTable(table, options);
  for (const [type, pipelines] of Object.entries(doc.pipelines ?? {})) for (const p of pipelines) ctx.pipelines.add(portalId, specIn(portalId, type).name, p);
  for (const s of doc.subscriptions ?? []) ctx.subscriptions.set(portalId, s.email, s.subscriptionId, { status: s.status, legalBasis: null, legalBasisExplanation: null });
  const refs: Record<string, SeededRecord> = {};
  for (const [type, items] of Object.entries(doc.objects ?? {})) {
    const spec = specIn(portalId, type);
    for (const item of items) {
      const { ref, properties } =
        'properties' in item && typeof item.properties === 'object' && item.properties !== null
          ? (item as { ref?: string; properties: Record<string, Value> })
          : { ref: undefined, properties: item as Record<string, Value> };
      const written = normalizeWrite(spec, properties, { strict: false, customProperties: new Set() });
      if (!written.ok)
        throw new ValidationError(`hubspot-fake: cannot seed ${type}${ref ? ` ${ref}` : ''}: ${'problems' in written ? written.problems.map((p) => p.message).join('; ') : written.invalidInput}`);
      const created = toSnapshot(ctx.store.create(portalId, spec, written.values));
      if (ref) {
        if (refs[ref]) throw new ValidationError(`hubspot-fake: seed ref ${ref} is used twice`);
        refs[ref] = { objectType: spec.name, id: created.id };
      }
    }
  }
  for (const link of doc.associations ?? []) {
    const from = refs[link.from];
    const to = refs[link.to];
    if (!from || !to) throw new ValidationError(`hubspot-fake: association ${link.from} → ${link.to} names an unknown ref`);
    handles.associate(from, to, link.typeId === undefined ? options : { ...options, typeId: link.typeId });
  }
  return { refs };
}
