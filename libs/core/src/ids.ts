import { createHash, randomUUID } from 'node:crypto';

/** Source of ids, passed in so that pure code and tests stay deterministic. */
export type IdGenerator = () => string;

export const randomId: IdGenerator = () => randomUUID();

/** A prefixed random id, e.g. `enr_3f9a...`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

/**
 * A deterministic id derived from its parts: the same inputs (say, a consumed event and the
 * step it decides) always give the same id, so a redelivered input produces the same event id.
 */
export function deterministicId(prefix: string, ...parts: Array<string | number>): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `${prefix}_${hash}`;
}

export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
