/**
 * Custom objects: the schemas a portal defined (see schemas.routes.ts), after which
 * `/crm/v3/objects/{type}` serves each by object type id (`2-3456`), fully qualified name
 * (`p62515_cars`), `p_cars` or its name.
 */
import type { FakeContext } from './fake-context.ts';
import { resolveObjectType, type ObjectTypeSpec } from './object-types.ts';
import { customObjectSpec, type CustomObjectSchema } from './object-types.more.ts';

export interface SchemaInput {
  name: string;
  labels?: { singular?: string; plural?: string };
  primaryDisplayProperty?: string;
  requiredProperties?: string[];
  secondaryDisplayProperties?: string[];
  searchableProperties?: string[];
  properties?: Array<{ name: string; label?: string; type?: string; fieldType?: string }>;
  associatedObjects?: string[];
}

const NAME = /^[a-z][a-z0-9_]*$/i;

export class SchemaRegistry {
  readonly #schemas: CustomObjectSchema[] = [];
  #nextId = 3456;

  /** A new schema, or the message of the 400 HubSpot gives for the input. */
  create(portalId: number, input: SchemaInput, now: number): CustomObjectSchema | string {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) return 'name is required and must start with a letter and hold only letters, digits and underscores';
    const name = input.name.toLowerCase();
    if (resolveObjectType(name) || this.#schemas.some((s) => s.portalId === portalId && s.name === name)) return `An object type with name ${name} already exists`;
    const properties = (input.properties ?? []).map((p) => ({ name: p.name, label: p.label ?? p.name, type: p.type ?? 'string', fieldType: p.fieldType ?? 'text' }));
    const primary = input.primaryDisplayProperty ?? properties[0]?.name;
    if (!primary) return 'primaryDisplayProperty or at least one property is required';
    const id = String(this.#nextId++);
    const objectTypeId = `2-${id}`;
    const schema: CustomObjectSchema = {
      id,
      objectTypeId,
      name,
      fullyQualifiedName: `p${portalId}_${name}`,
      portalId,
      labels: { singular: input.labels?.singular ?? name, plural: input.labels?.plural ?? `${name}s` },
      primaryDisplayProperty: primary,
      secondaryDisplayProperties: input.secondaryDisplayProperties ?? [],
      requiredProperties: input.requiredProperties ?? [],
      searchableProperties: input.searchableProperties ?? [primary],
      properties,
      associatedObjects: (input.associatedObjects ?? []).map((o) => o.toUpperCase()),
      createdAt: now,
      updatedAt: now,
      spec: customObjectSpec(
        `p${portalId}_${name}`,
        objectTypeId,
        properties.map((p) => p.name),
        primary,
      ),
    };
    this.#schemas.push(schema);
    return schema;
  }

  list(portalId: number): CustomObjectSchema[] {
    return this.#schemas.filter((s) => s.portalId === portalId);
  }

  /** The schema a path segment names: `2-3456`, `p62515_cars`, `p_cars` or `cars`. */
  find(portalId: number, segment: string): CustomObjectSchema | undefined {
    const wanted = segment.toLowerCase();
    return this.list(portalId).find((s) => s.objectTypeId === wanted || s.fullyQualifiedName === wanted || `p_${s.name}` === wanted || s.name === wanted);
  }

  clear(): void {
    this.#schemas.length = 0;
  }
}

/** The spec of a standard type or of one of the portal's custom objects. */
export function resolveType(ctx: FakeContext, portalId: number, segment: string): ObjectTypeSpec | undefined {
  return resolveObjectType(segment) ?? ctx.schemas.find(portalId, segment)?.spec;
}
