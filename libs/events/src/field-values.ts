import type { FieldValue } from '@codestep/contracts';

export type PlainFields = Record<string, string | number | boolean>;

export function fieldValue(v: string | number | boolean): FieldValue {
  if (typeof v === 'number') return { kind: { $case: 'numberValue', value: v } };
  if (typeof v === 'boolean') return { kind: { $case: 'boolValue', value: v } };
  return { kind: { $case: 'stringValue', value: v } };
}

export function plainValue(v: FieldValue | undefined): string | number | boolean | null {
  return v?.kind ? v.kind.value : null;
}

export function plainToFieldMap(fields: PlainFields): Record<string, FieldValue> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fieldValue(v)]));
}

export function fieldMapToPlain(fields: Record<string, FieldValue> | undefined): PlainFields {
  const out: PlainFields = {};
  for (const [k, v] of Object.entries(fields ?? {})) {
    const p = plainValue(v);
    if (p !== null) out[k] = p;
  }
  return out;
}
