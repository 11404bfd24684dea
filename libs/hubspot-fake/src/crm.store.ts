/**
 * In-memory CRM records, kept per portal and object type. Ids are numeric strings from one
 * increasing counter (HubSpot ids are numeric too), so id order is creation order.
 */
import type { Clock } from '@codestep/core';
import { formatInstant } from './crm.properties.ts';
import type { CrmObjectType, ObjectTypeSpec } from './object-types.ts';

export interface StoredObject {
  readonly id: string;
  readonly portalId: number;
  readonly spec: ObjectTypeSpec;
  /** Stored values; HubSpot's computed ones (`hs_object_id`, `createdate`, last-modified) included. */
  readonly properties: Map<string, string>;
  readonly createdAt: number;
  updatedAt: number;
  archivedAt: number | undefined;
  /** Every value each property had, oldest first (for `propertiesWithHistory`). */
  readonly history: Map<string, PropertyVersion[]>;
}

/** One value a property held, as `propertiesWithHistory` reports it. */
export interface PropertyVersion {
  value: string;
  timestamp: number;
  sourceType: string;
}

/** A record as a test sees it: every stored property, ISO timestamps. */
export interface CrmObjectSnapshot {
  id: string;
  objectType: CrmObjectType;
  portalId: number;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A record on the wire: `{ id, properties, createdAt, updatedAt, archived[, archivedAt] }`. */
export function toWire(object: StoredObject, properties: Record<string, string | null>): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    id: object.id,
    properties,
    createdAt: formatInstant(object.createdAt),
    updatedAt: formatInstant(object.updatedAt),
    archived: object.archivedAt !== undefined,
  };
  if (object.archivedAt !== undefined) wire['archivedAt'] = formatInstant(object.archivedAt);
  return wire;
}

export function toSnapshot(object: StoredObject): CrmObjectSnapshot {
  const properties: Record<string, string> = {};
  for (const name of [...object.properties.keys()].sort()) properties[name] = object.properties.get(name) as string;
  const snapshot: CrmObjectSnapshot = {
    id: object.id,
    objectType: object.spec.name,
    portalId: object.portalId,
    properties,
    createdAt: formatInstant(object.createdAt),
    updatedAt: formatInstant(object.updatedAt),
    archived: object.archivedAt !== undefined,
  };
  if (object.archivedAt !== undefined) snapshot.archivedAt = formatInstant(object.archivedAt);
  return snapshot;
}

/** A record created, or one of its properties changed (what HubSpot's webhook subscriptions report). */
export type CrmChange = { kind: 'creation'; object: StoredObject } | { kind: 'propertyChange'; object: StoredObject; propertyName: string; propertyValue: string };

export class CrmStore {
  readonly #clock: Clock;
  #nextId: number;
  readonly #collections = new Map<string, Map<string, StoredObject>>();
  /** Told of every record created or property changed (the webhook subscriptions listen). */
  onChange: ((change: CrmChange) => void) | undefined;

  constructor(clock: Clock, firstId: number) {
    this.#clock = clock;
    this.#nextId = firstId;
  }

  #collection(portalId: number, type: CrmObjectType): Map<string, StoredObject> {
    const key = `${portalId}:${type}`;
    let collection = this.#collections.get(key);
    if (!collection) {
      collection = new Map();
      this.#collections.set(key, collection);
    }
    return collection;
  }

  create(portalId: number, spec: ObjectTypeSpec, values: ReadonlyMap<string, string | null>): StoredObject {
    const now = this.#clock();
    const id = String(this.#nextId++);
    const properties = new Map<string, string>();
    for (const [name, value] of values) if (value !== null) properties.set(name, value);
    properties.set('hs_object_id', id);
    if (!properties.has('createdate')) properties.set('createdate', formatInstant(now));
    properties.set(spec.lastModifiedProperty, formatInstant(now));
    computeDerived(spec.name, properties);
    const object: StoredObject = { id, portalId, spec, properties, createdAt: now, updatedAt: now, archivedAt: undefined, history: new Map() };
    for (const [name, value] of properties) recordVersion(object, name, value, now);
    this.#collection(portalId, spec.name).set(id, object);
    this.onChange?.({ kind: 'creation', object });
    return object;
  }

  update(object: StoredObject, values: ReadonlyMap<string, string | null>): StoredObject {
    const now = this.#clock();
    const changed: Array<[string, string]> = [];
    for (const [name, value] of values) {
      if ((object.properties.get(name) ?? null) !== value) changed.push([name, value ?? '']);
      if (value === null) object.properties.delete(name);
      else object.properties.set(name, value);
      recordVersion(object, name, value ?? '', now);
    }
    for (const [propertyName, propertyValue] of changed) this.onChange?.({ kind: 'propertyChange', object, propertyName, propertyValue });
    object.updatedAt = now;
    object.properties.set(object.spec.lastModifiedProperty, formatInstant(now));
    const before = object.properties.get('amount');
    computeDerived(object.spec.name, object.properties);
    const after = object.properties.get('amount');
    if (after !== undefined && after !== before) recordVersion(object, 'amount', after, now);
    return object;
  }

  archive(object: StoredObject): void {
    const now = this.#clock();
    object.archivedAt = now;
    object.updatedAt = now;
  }

  /** Deletes for good (GDPR delete): the id is not found afterwards, archived or not. */
  remove(object: StoredObject): void {
    this.#collection(object.portalId, object.spec.name).delete(object.id);
  }

  /** The record with this id in any type of the portal (engagement ids are shared by the activity types). */
  findAnyType(portalId: number, id: string, types: readonly CrmObjectType[]): StoredObject | undefined {
    for (const type of types) {
      const found = this.#collection(portalId, type).get(id);
      if (found) return found;
    }
    return undefined;
  }

  find(portalId: number, type: CrmObjectType, id: string): StoredObject | undefined {
    return this.#collection(portalId, type).get(id);
  }

  /** Records of one type in id order, archived ones only when `archived` is true, as HubSpot splits them. */
  list(portalId: number, type: CrmObjectType, archived = false): StoredObject[] {
    return [...this.#collection(portalId, type).values()].filter((o) => (o.archivedAt !== undefined) === archived);
  }

  /** The live record whose property equals `value`, compared case-insensitively (emails). */
  findByProperty(portalId: number, type: CrmObjectType, name: string, value: string): StoredObject | undefined {
    const wanted = value.toLowerCase();
    return this.list(portalId, type).find((o) => o.properties.get(name)?.toLowerCase() === wanted);
  }

  /** Drops every record; ids keep counting up so an old id never names a new record. */
  clear(): void {
    this.#collections.clear();
  }
}

function recordVersion(object: StoredObject, name: string, value: string, timestamp: number): void {
  let versions = object.history.get(name);
  if (!versions) {
    versions = [];
    object.history.set(name, versions);
  }
  versions.push({ value, timestamp, sourceType: 'API' });
}

/**
 * Values HubSpot computes from others: a line item's `amount` is `price × quantity` less its
 * discount (`discount` per unit, or `hs_discount_percentage`).
 */
function computeDerived(type: CrmObjectType, properties: Map<string, string>): void {
  if (type !== 'line_items') return;
  const price = Number(properties.get('price'));
  const quantity = Number(properties.get('quantity') ?? '1');
  if (!properties.has('price') || !Number.isFinite(price) || !Number.isFinite(quantity)) return;
  const discount = Number(properties.get('discount') ?? '0') || 0;
  const percentage = Number(properties.get('hs_discount_percentage') ?? '0') || 0;
  const gross = price * quantity;
  const amount = gross - discount * quantity - (gross * percentage) / 100;
  properties.set('amount', String(Math.round(amount * 100) / 100));
}
