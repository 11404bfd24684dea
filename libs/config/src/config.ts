/**
 * Configuration parsed once at start from the environment, against one schema per app. Every
 * key documents its unit and default; all problems are reported together, each saying what
 * to set. Nothing else in the codebase reads `process.env`.
 */
import { CodestepError } from '@codestep/core';

interface FieldBase<T> {
  env: string;
  doc: string;
  default?: T;
  /** Required when no default: a missing value is an error. */
  optional?: boolean;
}
export type Field =
  | ({ kind: 'string' } & FieldBase<string>)
  | ({ kind: 'int'; min?: number; max?: number } & FieldBase<number>)
  | ({ kind: 'bool' } & FieldBase<boolean>)
  | ({ kind: 'list' } & FieldBase<readonly string[]>)
  | ({ kind: 'map' } & FieldBase<Record<string, string>>)
  | ({ kind: 'enum'; values: readonly string[] } & FieldBase<string>);

export type Schema = Record<string, Field>;
type ValueOf<F extends Field> = F extends { kind: 'int' }
  ? number
  : F extends { kind: 'bool' }
    ? boolean
    : F extends { kind: 'list' }
      ? string[]
      : F extends { kind: 'map' }
        ? Record<string, string>
        : string;
export type Config<S extends Schema> = {
  -readonly [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : S[K] extends { optional: true } ? ValueOf<S[K]> | undefined : ValueOf<S[K]>;
};

export class ConfigError extends CodestepError {
  constructor(problems: string[]) {
    super('INVALID_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig<S extends Schema>(schema: S, env: Record<string, string | undefined>): Config<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, field] of Object.entries(schema)) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') {
      if (field.default !== undefined) out[key] = field.default;
      else if (!field.optional) problems.push(`${field.env} is required: ${field.doc}`);
      continue;
    }
    const value = parseField(field, raw.trim());
    if (value instanceof Error) problems.push(`${field.env}=${JSON.stringify(raw)}: ${value.message} (${field.doc})`);
    else out[key] = value;
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Config<S>;
}

function parseField(field: Field, raw: string): unknown {
  switch (field.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return new Error('must be a whole number');
      const n = Number(raw);
      if (field.min !== undefined && n < field.min) return new Error(`must be at least ${field.min}`);
      if (field.max !== undefined && n > field.max) return new Error(`must be at most ${field.max}`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return new Error('must be true or false');
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'map': {
      const out: Record<string, string> = {};
      for (const pair of raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const i = pair.indexOf('=');
        if (i <= 0) return new Error(`"${pair}" is not KEY=VALUE`);
        out[pair.slice(0, i)] = pair.slice(i + 1);
      }
      return out;
    }
    case 'enum':
      return field.values.includes(raw) ? raw : new Error(`must be one of ${field.values.join(', ')}`);
  }
}

/** A markdown table of the schema, for the README. */
export function describeConfig(schema: Schema): string {
  const rows = Object.values(schema).map((f) => `| \`${f.env}\` | ${f.default === undefined ? (f.optional ? '(unset)' : '**required**') : `\`${JSON.stringify(f.default)}\``} | ${f.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
