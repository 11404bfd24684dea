/**
 * Associations between records, kept in both directions as HubSpot does (creating
 * `contact → company` 279 also creates `company → contact` 280). Keys are object type names
 * (`contacts`, `p62515_cars`) and record ids. Giving a contact, deal or ticket its first company
 * makes that company its primary one too, as HubSpot does.
 */
import { describeType, pairTypes, reverseTypeId, type AssociationType } from './association-types.ts';
import type { ObjectTypeSpec } from './object-types.ts';

export interface AssociationEnd {
  spec: ObjectTypeSpec;
  id: string;
}

export interface AssociatedRecord {
  toId: string;
  types: AssociationType[];
}

export class AssociationStore {
  /** `${portal}|${fromType}|${fromId}|${toType}` → toId → type ids. */
  readonly #edges = new Map<string, Map<string, Set<number>>>();

  #bucket(portalId: number, from: AssociationEnd, toType: string, create: boolean): Map<string, Set<number>> | undefined {
    const key = `${portalId}|${from.spec.name}|${from.id}|${toType}`;
    let bucket = this.#edges.get(key);
    if (!bucket && create) {
      bucket = new Map();
      this.#edges.set(key, bucket);
    }
    return bucket;
  }

  #add(portalId: number, from: AssociationEnd, to: AssociationEnd, typeId: number): void {
    const bucket = this.#bucket(portalId, from, to.spec.name, true) as Map<string, Set<number>>;
    let types = bucket.get(to.id);
    if (!types) {
      types = new Set();
      bucket.set(to.id, types);
    }
    types.add(typeId);
  }

  /** Adds `typeId` from → to and its reverse; a primary type replaces the record's previous primary. */
  associate(portalId: number, from: AssociationEnd, to: AssociationEnd, typeId: number): void {
    const types = pairTypes(from.spec.singular, to.spec.singular);
    if (types.primary === typeId) {
      for (const [otherId, set] of this.#bucket(portalId, from, to.spec.name, false) ?? []) {
        if (otherId !== to.id && set.delete(typeId)) this.#bucket(portalId, { spec: to.spec, id: otherId }, from.spec.name, false)?.get(from.id)?.delete(reverseTypeId(typeId));
      }
      this.#add(portalId, from, to, types.unlabeled);
      this.#add(portalId, to, from, reverseTypeId(types.unlabeled));
    }
    this.#add(portalId, from, to, typeId);
    this.#add(portalId, to, from, reverseTypeId(typeId));
  }

  /** A plain association: the unlabeled type, plus primary when the record has no primary of that type yet. */
  associateDefault(portalId: number, from: AssociationEnd, to: AssociationEnd): number[] {
    const types = pairTypes(from.spec.singular, to.spec.singular);
    const added = [types.unlabeled];
    this.associate(portalId, from, to, types.unlabeled);
    if (types.primary !== undefined) {
      const hasPrimary = [...(this.#bucket(portalId, from, to.spec.name, false)?.values() ?? [])].some((s) => s.has(types.primary as number));
      if (!hasPrimary) {
        this.associate(portalId, from, to, types.primary);
        added.push(types.primary);
      }
    }
    const reverse = pairTypes(to.spec.singular, from.spec.singular);
    if (types.primary === undefined && reverse.primary !== undefined) {
      const hasPrimary = [...(this.#bucket(portalId, to, from.spec.name, false)?.values() ?? [])].some((s) => s.has(reverse.primary as number));
      if (!hasPrimary) this.associate(portalId, to, from, reverse.primary);
    }
    return added;
  }

  /** Removes the given types (every type when none given) between two records, both directions. */
  dissociate(portalId: number, from: AssociationEnd, to: AssociationEnd, typeIds?: readonly number[]): void {
    const forward = this.#bucket(portalId, from, to.spec.name, false)?.get(to.id);
    const backward = this.#bucket(portalId, to, from.spec.name, false)?.get(from.id);
    for (const typeId of typeIds ?? [...(forward ?? [])]) {
      forward?.delete(typeId);
      backward?.delete(reverseTypeId(typeId));
    }
    if (forward?.size === 0) this.#bucket(portalId, from, to.spec.name, false)?.delete(to.id);
    if (backward?.size === 0) this.#bucket(portalId, to, from.spec.name, false)?.delete(from.id);
  }

  /** Records of `toSpec` associated with `from`, in id order, with the types of each. */
  list(portalId: number, from: AssociationEnd, toSpec: ObjectTypeSpec): AssociatedRecord[] {
    const bucket = this.#bucket(portalId, from, toSpec.name, false);
    if (!bucket) return [];
    return [...bucket.entries()]
      .filter(([, types]) => types.size > 0)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([toId, types]) => ({
        toId,
        types: [...types].sort((a, b) => a - b).map((t) => describeType(from.spec.singular, toSpec.singular, t)),
      }));
  }

  /** Every type of association the record has, per other type name (for merges and deletes). */
  allOf(portalId: number, from: AssociationEnd): Array<{ toType: string; toId: string; typeIds: number[] }> {
    const prefix = `${portalId}|${from.spec.name}|${from.id}|`;
    const out: Array<{ toType: string; toId: string; typeIds: number[] }> = [];
    for (const [key, bucket] of this.#edges) {
      if (!key.startsWith(prefix)) continue;
      const toType = key.slice(prefix.length);
      for (const [toId, types] of bucket) if (types.size > 0) out.push({ toType, toId, typeIds: [...types] });
    }
    return out;
  }

  clear(): void {
    this.#edges.clear();
  }
}
